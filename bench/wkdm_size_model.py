#!/usr/bin/env python3
"""The compressed size a WKdm-style word codec would reach on files of raw memory.

A size model, not a codec: it counts what WKdm's encoding (Wilson, Kaplan &
Smaragdakis 1999; the scheme of XNU's WKdm) spends on each 32-bit word of a
4 KiB page, with a 16-entry direct-mapped dictionary indexed by a hash of the
word's high 22 bits:
  zero word             2-bit tag
  exact dictionary hit  2-bit tag + 4-bit index
  high 22 bits match    2-bit tag + 4-bit index + 10 low bits (entry replaced)
  miss                  2-bit tag + 32 bits (entry replaced)
plus a 12-byte header per page; a page that does not shrink counts 4096, a
single-value page (one repeated 64-bit word) 8, as in `vmsim bench compressor`.
Used to choose the core's codec (docs/compressor.md); pure Python, slow.

usage: bench/wkdm_size_model.py FILE...
"""
import struct
import sys

PAGE = 4096


def wkdm_bytes(words):
    dictionary = [1] * 16
    bits = 0
    for w in words:
        if w == 0:
            bits += 2
            continue
        i = (((w >> 10) * 2654435761) >> 28) & 15
        d = dictionary[i]
        if d == w:
            bits += 6
        elif d >> 10 == w >> 10:
            bits += 16
            dictionary[i] = w
        else:
            bits += 34
            dictionary[i] = w
    return 12 + (bits + 7) // 8


def main():
    for path in sys.argv[1:]:
        data = open(path, "rb").read()
        pages = len(data) // PAGE
        out = 0
        for p in range(pages):
            page = data[p * PAGE:(p + 1) * PAGE]
            if page == page[:8] * (PAGE // 8):
                out += 8
                continue
            out += min(PAGE, wkdm_bytes(struct.unpack("<1024I", page)))
        print(f"{path}: {pages} pages, WKdm-style ratio {len(data) / out:.3f}")


if __name__ == "__main__":
    main()
