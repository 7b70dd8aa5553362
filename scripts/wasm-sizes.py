#!/usr/bin/env python3
"""What is large in a wasm file, like `twiggy top`: the biggest function bodies by name and the
code by crate, from the name section. Use it on the wasm before wasm-bindgen and wasm-opt (which
drop the names): target/wasm32-unknown-unknown/wasm-release/tagstream-frontend.wasm.

    python3 scripts/wasm-sizes.py FILE.wasm [HOW_MANY]
"""
import collections
import re
import sys


def leb(b, i):
    result = shift = 0
    while True:
        x = b[i]
        i += 1
        result |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return result, i


def main():
    data = open(sys.argv[1], "rb").read()
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    i, imported, bodies, names, sections = 8, 0, [], {}, collections.Counter()
    while i < len(data):
        sid = data[i]
        size, i = leb(data, i + 1)
        end = i + size
        if sid == 2:  # imports: function indices start after the imported functions
            n, j = leb(data, i)
            for _ in range(n):
                for _ in range(2):
                    length, j = leb(data, j)
                    j += length
                kind = data[j]
                j += 1
                if kind == 0:
                    _, j = leb(data, j)
                    imported += 1
                elif kind == 1:
                    j += 1
                    flags, j = leb(data, j)
                    _, j = leb(data, j)
                    if flags & 1:
                        _, j = leb(data, j)
                elif kind == 2:
                    flags, j = leb(data, j)
                    _, j = leb(data, j)
                    if flags & 1:
                        _, j = leb(data, j)
                elif kind == 3:
                    j += 2
        elif sid == 10:  # code
            n, j = leb(data, i)
            for _ in range(n):
                length, k = leb(data, j)
                bodies.append(length + (k - j))
                j = k + length
        elif sid == 0:  # custom: the name section
            length, j = leb(data, i)
            name = data[j : j + length].decode()
            j += length
            sid = "custom " + name
            while name == "name" and j < end:
                sub = data[j]
                sub_len, j = leb(data, j + 1)
                if sub == 1:
                    n, k = leb(data, j)
                    for _ in range(n):
                        index, k = leb(data, k)
                        length, k = leb(data, k)
                        names[index] = data[k : k + length].decode("utf8", "replace")
                        k += length
                j += sub_len
        sections[sid] += size
        i = end
    print(f"{len(data)} bytes; sections: {dict(sections)}")
    rows = sorted(
        ((size, names.get(imported + k, f"func[{imported + k}]")) for k, size in enumerate(bodies)),
        reverse=True,
    )
    for size, name in rows[:top]:
        print(f"{size:8} {name[:140]}")
    by_crate = collections.Counter()
    for size, name in rows:
        by_crate[crate_of(name)] += size
    print("--- code by crate (impl: a trait impl for a type of that crate)")
    for crate, size in by_crate.most_common(top):
        print(f"{size:8} {crate}")


def crate_of(name):
    m = re.match(r"_ZN(\d+)", name)
    if not m:
        return "?"
    first = name[m.end() : m.end() + int(m.group(1))]
    if first.startswith("_$LT$"):
        inner = re.search(r"([a-z_][a-z0-9_]*)\.\.", first)
        return "impl:" + (inner.group(1) if inner else "?")
    return first


if __name__ == "__main__":
    main()
