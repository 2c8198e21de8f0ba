#!/usr/bin/env python3
"""Prints SQS's MD5OfMessageAttributes of a JSON attribute map, written out
from SQS's documented algorithm.

Usage: md5attrs.py BLOBS '{"name": {"DataType": ..., ...}}'
BLOBS says how the AWS CLI sends a BinaryValue given as a string: "base64"
(AWS CLI v2 decodes it) or "raw" (AWS CLI v1 sends the string's bytes)."""
import base64
import hashlib
import json
import struct
import sys

blobs, attrs = sys.argv[1], json.loads(sys.argv[2])
h = hashlib.md5()
for name in sorted(attrs):
    v = attrs[name]
    dt = v["DataType"]
    h.update(struct.pack(">I", len(name.encode())) + name.encode())
    h.update(struct.pack(">I", len(dt.encode())) + dt.encode())
    if dt.startswith("Binary"):
        val = base64.b64decode(v["BinaryValue"]) if blobs == "base64" else v["BinaryValue"].encode()
        h.update(b"\x02" + struct.pack(">I", len(val)) + val)
    else:
        val = v["StringValue"].encode()
        h.update(b"\x01" + struct.pack(">I", len(val)) + val)
print(h.hexdigest())
