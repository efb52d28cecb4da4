"""What real headers contain, end to end through reml-bindgen with --verify-layout (the
C compiler checks every size, alignment and offset, typedef names included): asm
statements and labels, offsetof / _Alignof / __alignof__ in constant expressions,
variable-length array parameters, __int128, layout attributes wherever GCC takes them,
array parameters decaying to pointers, and constants defined twice."""

from __future__ import annotations

import re

from bindgen_support import bind_header

HEADER = """\
#include <stddef.h>
#include <stdio.h>
struct pair { char c; long v; };
enum { OFF_V = offsetof(struct pair, v), AL = _Alignof(struct pair), AL2 = __alignof__(short),
       SZ = sizeof(struct pair) };
#define OFFV offsetof(struct pair, v)
#define ALV __alignof__(double)
struct nest { int a; struct { char b; double d[3]; } in; };
#define OFF_D2 offsetof(struct nest, in.d[2])
static inline int spin(int x) { __asm__ __volatile__ ("pause" ::: "memory"); __asm__ ("nop"); return x; }
extern int renamed (int x) __asm__ ("" "renamed_v2");
void vla(int n, int a[n], double m[n][n]);
void vla2(size_t n, int a[static n]);
void fixed(unsigned char id[16], const char name[]);
typedef unsigned char id_t16[16];
void typedef_array(id_t16 id);
struct wide { char c; __int128 big; unsigned __int128 ubig; };
struct __attribute__((packed)) pk { char c; int i; };
struct __attribute__((aligned(8))) bits { unsigned : 3; unsigned : 5; };
typedef struct { long a; } __attribute__((aligned(16))) raised_t;
typedef struct inner { long a; long b; } lowered_t __attribute__((aligned(4)));
struct uses { char c; raised_t r; lowered_t l; };
void take(struct wide *w, struct pk *p, struct bits *b, raised_t *r, lowered_t *l, struct uses *u);
enum dup { DUP_A = 1, DUP_B = 2 };
#define DUP_A DUP_A
#define DUP_B 3
"""


def test_real_header_syntax_binds_and_lays_out_as_gcc(tmp_path, capsys):
    rc, events, out = bind_header(tmp_path, HEADER, capsys, "--verify-layout")
    finish = events[-1]
    assert rc == 0, finish["diagnostics"]
    text = (out / "h.reml").read_text()
    gen = next(e for e in events if e["event"] == "bindgen.generate")
    assert gen["layout_checks"] > 40
    # constant expressions
    for line in ("pub const OFF_V: i32 = 8", "pub const AL: i32 = 8", "pub const AL2: i32 = 2",
                 "pub const SZ: i32 = 16", "pub const OFFV: u64 = 8", "pub const ALV: u64 = 8",
                 "pub const OFF_D2: u64 = 32"):
        assert line in text
    # asm label: the real symbol
    assert '@link_name("renamed_v2") fn renamed(x: i32) -> i32;' in text
    # variable-length and array parameters are pointers
    assert "fn vla(n: i32, a: Ptr<i32>, m: Ptr<f64>) -> ();" in text
    assert "fn vla2(n: usize, a: Ptr<i32>) -> ();" in text
    assert "fn fixed(id: Ptr<u8>, name: Ptr<i8>) -> ();" in text
    assert "fn typedef_array(id: Ptr<u8>) -> ();" in text
    assert not re.search(r"fn \w+\([^)]*\[", text)  # no by-value array parameter anywhere
    # __int128: 16 bytes, 16-aligned
    assert "@align(16) big: [u8; 16]," in text and "@align(16) ubig: [u8; 16]," in text
    # layout attributes after a system #include, on unnamed bit-fields only, on typedefs
    assert '@repr("C") @packed\npub type pk = {' in text
    assert '@repr("C") @align(8)\npub type bits = {' in text
    assert '@repr("C") @align(16)\npub type raised_t = {' in text
    assert "@align(4) pub type lowered_t = inner" in text
    # constants: `#define X X` is the enum constant; a different value is a diagnostic
    assert "pub const DUP_A" not in text and "pub const DUP_B" not in text
    dups = [d for d in finish["diagnostics"] if d["code"] == "ffi.bindgen.duplicate_constant"]
    assert [d["extensions"]["symbol"] for d in dups] == ["DUP_B"]


def test_verify_layout_checks_typedef_names(tmp_path, capsys):
    """A typedef's `aligned` that the layout model got wrong would be caught: the check
    states sizeof/_Alignof of every typedef name of an emitted record."""
    rc, events, _ = bind_header(tmp_path, "typedef struct s { long a; } s_t __attribute__((aligned(32)));\n"
                                "void f(s_t *x);\n", capsys, "--verify-layout")
    assert rc == 0, events[-1]
    from reml_wasm.bindgen.layout_check import checks_for
    from reml_wasm.bindgen.generate import model_from_headers
    model = model_from_headers([tmp_path / "h.h"])
    checks = {(c.symbol, c.what): c.expected for c in checks_for(model, model.structs())}
    assert checks[("s_t", "align")] == 32 and checks[("struct s", "align")] == 8
    assert checks[("s_t", "size")] == 8


def test_member_names_that_are_macros_or_preprocessor_words(tmp_path, capsys):
    """glibc names fields through macros (`#define si_pid _sifields…`); a member may be
    called `defined`: the layout probe still checks every field."""
    rc, events, _ = bind_header(tmp_path, "struct s { int defined; struct { int in_a; } u; };\n"
                                "#define in_a u.in_a\nvoid f(struct s *x);\n", capsys, "--verify-layout")
    assert rc == 0, events[-1]["diagnostics"]
    gen = next(e for e in events if e["event"] == "bindgen.generate")
    assert gen["layout_checks"] >= 6
