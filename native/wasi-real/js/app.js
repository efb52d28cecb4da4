// wit/wasi-real/real.wit implemented in JavaScript, built into a component by componentize-js.
// The world imports nothing, so this guest sees no environment and no files (its runtime
// still imports WASI for clocks, random and stdio).

export const api = {
  widen8(x) {
    if (x < -128 || x > 127) throw new Error("s8 out of range");
    return x;
  },
  widen16(x) {
    if (x < -32768 || x > 32767) throw new Error("s16 out of range");
    return x;
  },
  sum(xs) {
    let total = 0n;
    for (const x of xs) total += BigInt(x);
    return total;
  },
  greet(name) {
    return `Hello, ${name}!`;
  },
  bump(s) {
    return { fields: (s.fields + 1) >>> 0, total: s.total, label: s.label + "!" };
  },
  flip(p) {
    return { read: !p.read, write: !p.write, exec: !p.exec };
  },
  measure(s) {
    if (s.tag === "circle") return s.val >= 1.0 ? 1 : 0;
    if (s.tag === "square") return s.val;
    return 0;
  },
  envVar(key) {
    console.error(`env-var ${key}`);
    return undefined;
  },
  readFile(path) {
    throw "cannot open";
  },
};
