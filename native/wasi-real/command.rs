//! A wasi:cli/run command on Rust's standard library for wasm32-wasi (Debian's rustc
//! and libstd-rust-dev-wasm32), adapted to preview 2 with the command adapter.  It
//! reports its arguments and environment (sorted), its stdin size, writes a line to
//! stderr, then tries to read every argument after its name as a file and reports the
//! text or the error (kind and OS code).  WRITE_TO names a file to create; EXIT3 makes
//! it exit with status 3 (preview 2 carries only ok/err: the host sees 1); PANIC makes it
//! panic after its output (a trap: Rust's panics abort on wasm).
use std::io::{Read, Write};

fn describe(err: &std::io::Error) -> String {
    format!("error kind={:?} os={:?}", err.kind(), err.raw_os_error())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    println!("argc={}", args.len());
    for (i, a) in args.iter().enumerate() {
        println!("arg[{}]={}", i, a);
    }
    let mut env: Vec<(String, String)> = std::env::vars().collect();
    env.sort();
    for (k, v) in &env {
        println!("env {}={}", k, v);
    }
    let mut input = Vec::new();
    match std::io::stdin().read_to_end(&mut input) {
        Ok(n) => println!("stdin={}", n),
        Err(e) => println!("stdin: {}", describe(&e)),
    }
    eprintln!("rust to stderr");
    for path in args.iter().skip(1) {
        match std::fs::read_to_string(path) {
            Ok(text) => println!("read {}: ok {}", path, text.trim_end()),
            Err(e) => println!("read {}: {}", path, describe(&e)),
        }
    }
    if let Ok(target) = std::env::var("WRITE_TO") {
        match std::fs::File::create(&target).and_then(|mut f| f.write_all(b"written by rust\n")) {
            Ok(()) => println!("write {}: ok", target),
            Err(e) => println!("write {}: {}", target, describe(&e)),
        }
    }
    std::io::stdout().flush().unwrap();
    if std::env::var("PANIC").is_ok() {
        panic!("asked to panic");
    }
    if std::env::var("EXIT3").is_ok() {
        std::process::exit(3);
    }
}
