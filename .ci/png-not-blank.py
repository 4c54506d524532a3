#!/usr/bin/env python3
"""png-not-blank.py PNG [MIN_FRACTION]: exit 0 when at least MIN_FRACTION
(default 0.02) of the image's pixels are not near-white, else 1.

Python standard library only: reads the PNG chunks, zlib-decodes the IDAT
data, undoes the per-row filters (PNG spec §9) and counts pixels with any
colour channel below 235. For 8-bit greyscale, RGB, grey+alpha and RGBA
images (what Chromium's --screenshot writes); anything else is an error.
"""
import struct
import sys
import zlib

CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # PNG colour type -> samples per pixel


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG file")
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        sys.exit(f"{path}: no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in CHANNELS or interlace != 0:
        sys.exit(f"{path}: unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
    return width, height, CHANNELS[colour], zlib.decompress(b"".join(idat))


def unfilter(width, height, bpp, raw):
    """Yields each row's bytes with the PNG filter undone."""
    stride = width * bpp
    prev = bytearray(stride)
    pos = 0
    for _ in range(height):
        ftype = raw[pos]
        row = bytearray(raw[pos + 1 : pos + 1 + stride])
        pos += 1 + stride
        if ftype == 1:
            for i in range(bpp, stride):
                row[i] = (row[i] + row[i - bpp]) & 0xFF
        elif ftype == 2:
            row = bytearray((a + b) & 0xFF for a, b in zip(row, prev))
        elif ftype == 3:
            for i in range(stride):
                left = row[i - bpp] if i >= bpp else 0
                row[i] = (row[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif ftype == 4:
            for i in range(stride):
                a = row[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[i] = (row[i] + pred) & 0xFF
        elif ftype != 0:
            sys.exit(f"bad PNG filter type {ftype}")
        yield row
        prev = row


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    path = sys.argv[1]
    minimum = float(sys.argv[2]) if len(sys.argv) == 3 else 0.02
    width, height, samples, raw = read_png(path)
    colour = min(samples, 3) if samples != 2 else 1
    dark = 0
    for row in unfilter(width, height, samples, raw):
        for x in range(0, len(row), samples):
            if min(row[x : x + colour]) < 235:
                dark += 1
    fraction = dark / (width * height)
    print(f"{path}: {width}x{height}, {dark} non-white pixels ({fraction:.2%}; need {minimum:.2%})")
    sys.exit(0 if fraction >= minimum else 1)


if __name__ == "__main__":
    main()
