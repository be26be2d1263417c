"""Reads a JSON list of ER7 messages on stdin, parses each with python-hl7 (a peer we did not
write) and prints them as JSON in EdgePush's er7-model shape (hl7/er7-model.ts), values
unescaped with python-hl7's own Message.unescape. Repetitions are always written with the
{"repeat": [...]} wrapper; the test brings both sides to canonical form before comparing."""
import json
import sys

import hl7


def leaf(message, value):
    value = str(value)
    # python-hl7 keeps HL7's explicit null as the two-character text; the model calls it null.
    if value == '""':
        return None
    return message.unescape(value)


def component(message, c):
    return leaf(message, c) if isinstance(c, str) else [leaf(message, s) for s in c]


def repetition(message, r):
    return leaf(message, r) if isinstance(r, str) else [component(message, c) for c in r]


def field(message, f):
    return leaf(message, f) if isinstance(f, str) else {"repeat": [repetition(message, r) for r in f]}


out = []
for text in json.load(sys.stdin):
    message = hl7.parse(text)
    segments = []
    for segment in message:
        name = str(segment[0])
        if name == "MSH":
            segments.append(["MSH", str(segment[1]), str(segment[2])] + [field(message, f) for f in segment[3:]])
        else:
            segments.append([name] + [field(message, f) for f in segment[1:]])
    out.append(segments)
json.dump(out, sys.stdout)
