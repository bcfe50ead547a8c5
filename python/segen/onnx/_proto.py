"""The few parts of the ONNX protobuf format segen reads itself, without the ``onnx`` package (a test and
training dependency only): the operators of every graph, subgraph and model-local function, and the tensors
whose data lives in external files, which :func:`inline_external` copies into the model's bytes so that
ONNX Runtime never opens a file itself.

The reader is strict where ONNX Runtime's parser would be lenient in ways that matter: groups, bad wire
types on the fields walked, truncated fields and over-long varints are :class:`ProtoError`, so a file the
reader cannot follow is refused rather than handed to ONNX Runtime with parts unchecked.

Field numbers are those of ``onnx.proto`` (proto2); each walked message kind lists the fields that hold
sub-messages::

    ModelProto          graph 7, training_info 20, functions 25
    TrainingInfoProto   initialization 1, algorithm 2 (graphs)
    GraphProto          node 1, initializer 5, sparse_initializer 15
    FunctionProto       node 7, attribute_proto 11
    NodeProto           op_type 4, domain 7, input 1, attribute 5
    AttributeProto      t 5, g 6, tensors 10, graphs 11, sparse_tensor 22, sparse_tensors 23
    SparseTensorProto   values 1, indices 2
    TensorProto         name 8, raw_data 9, external_data 13 (key 1, value 2), data_location 14
"""

from __future__ import annotations

import dataclasses

__all__ = ["ExternalRef", "ModelScan", "ProtoError", "inline_external", "scan"]

#: Deepest message nesting followed (protobuf's own default recursion limit is 100).
MAX_DEPTH = 100

_CHILDREN = {
    "model": {7: "graph", 20: "training", 25: "function"},
    "training": {1: "graph", 2: "graph"},
    "graph": {1: "node", 5: "tensor", 15: "sparse"},
    "function": {7: "node", 11: "attribute"},
    "node": {5: "attribute"},
    "attribute": {5: "tensor", 6: "graph", 10: "tensor", 11: "graph", 22: "sparse", 23: "sparse"},
    "sparse": {1: "tensor", 2: "tensor"},
    "tensor": {},
}
_EXTERNAL_KEYS = ("location", "offset", "length", "checksum")


class ProtoError(ValueError):
    """The bytes are not an ONNX model segen can follow."""


@dataclasses.dataclass(frozen=True)
class ExternalRef:
    """One tensor's data in an external file: ``location`` as written in the model, byte ``offset`` and
    ``length`` (None: to the end of the file)."""

    tensor: str
    location: str
    offset: int
    length: int | None


@dataclasses.dataclass
class ModelScan:
    """What :func:`scan` found: every node as ``(domain, op_type, inputs)`` (graphs, subgraphs and functions
    alike) and every tensor stored in an external file."""

    nodes: list = dataclasses.field(default_factory=list)
    external: list = dataclasses.field(default_factory=list)


def _varint(buf, pos: int, end: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= end:
            raise ProtoError("truncated varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7
        if shift >= 70:
            raise ProtoError("varint longer than 10 bytes")


def _fields(buf, start: int, end: int):
    """``(field, wire_type, value, field_start, field_end)`` of one message: value is an int (varint), a
    ``(start, end)`` span (length-delimited) or None (fixed 32/64-bit)."""
    pos = start
    while pos < end:
        first = pos
        key, pos = _varint(buf, pos, end)
        field, wire = key >> 3, key & 7
        if field == 0:
            raise ProtoError("field number 0")
        if wire == 0:
            value, pos = _varint(buf, pos, end)
        elif wire == 1:
            value, pos = None, pos + 8
        elif wire == 5:
            value, pos = None, pos + 4
        elif wire == 2:
            n, pos = _varint(buf, pos, end)
            value, pos = (pos, pos + n), pos + n
        else:
            raise ProtoError(f"wire type {wire} (groups are not used by ONNX)")
        if pos > end:
            raise ProtoError("field runs past the end of its message")
        yield field, wire, value, first, pos


def _text(buf, span) -> str:
    return bytes(buf[span[0] : span[1]]).decode("utf-8", errors="replace")


def _tensor(buf, start: int, end: int) -> ExternalRef | None:
    name, location, entries = "", 0, []
    for field, wire, value, _, _ in _fields(buf, start, end):
        if field == 8 and wire == 2:
            name = _text(buf, value)
        elif field == 14:
            if wire != 0 or value not in (0, 1):
                raise ProtoError(f"tensor {name!r}: data_location must be 0 or 1; got {value!r}")
            location = value
        elif field == 13 and wire == 2:
            key = val = ""
            for f2, w2, v2, _, _ in _fields(buf, *value):
                if f2 in (1, 2) and w2 == 2:
                    if f2 == 1:
                        key = _text(buf, v2)
                    else:
                        val = _text(buf, v2)
            entries.append((key, val))
    if location != 1:
        return None
    info: dict[str, str] = {}
    for key, val in entries:
        if key not in _EXTERNAL_KEYS:
            raise ProtoError(f"tensor {name!r}: unknown external_data key {key!r}")
        if key in info:
            raise ProtoError(f"tensor {name!r}: external_data key {key!r} given twice")
        info[key] = val
    if not info.get("location"):
        raise ProtoError(f"tensor {name!r} is stored externally but has no location")
    numbers = {}
    for key in ("offset", "length"):
        raw = info.get(key)
        if raw is None:
            numbers[key] = None
        elif raw.isascii() and raw.isdigit() and len(raw) <= 19:
            numbers[key] = int(raw)
        else:
            raise ProtoError(
                f"tensor {name!r}: external_data {key} must be a non-negative integer; got {raw!r}"
            )
    return ExternalRef(name, info["location"], numbers["offset"] or 0, numbers["length"])


def _walk(kind: str, buf, start: int, end: int, out: ModelScan, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ProtoError(f"messages nested deeper than {MAX_DEPTH} levels")
    if kind == "tensor":
        ref = _tensor(buf, start, end)
        if ref is not None:
            out.external.append(ref)
        return
    children = _CHILDREN[kind]
    op = domain = ""
    inputs = []
    for field, wire, value, _, _ in _fields(buf, start, end):
        if kind == "node" and wire == 2:
            if field == 4:
                op = _text(buf, value)
            elif field == 7:
                domain = _text(buf, value)
            elif field == 1:
                inputs.append(_text(buf, value))
        child = children.get(field)
        if child is not None:
            if wire != 2:
                raise ProtoError(f"field {field} of a {kind} message must be a message; got wire type {wire}")
            _walk(child, buf, value[0], value[1], out, depth + 1)
    if kind == "node":
        out.nodes.append((domain, op, tuple(inputs)))


def scan(data) -> ModelScan:
    """Walk a serialized ``ModelProto``: every node and every externally stored tensor."""
    buf = memoryview(data)
    out = ModelScan()
    _walk("model", buf, 0, len(buf), out, 0)
    return out


def _encode_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _rewrite(kind: str, buf, start: int, end: int, data_of, depth: int):
    """The message re-encoded with external tensors inlined, or None when nothing in it changed."""
    if depth > MAX_DEPTH:
        raise ProtoError(f"messages nested deeper than {MAX_DEPTH} levels")
    if kind == "tensor":
        ref = _tensor(buf, start, end)
        if ref is None:
            return None
        parts = [
            bytes(buf[s:e]) for field, _, _, s, e in _fields(buf, start, end) if field not in (9, 13, 14)
        ]
        raw = data_of(ref)
        parts.append(b"\x4a" + _encode_varint(len(raw)) + raw)  # field 9 (raw_data), length-delimited
        return b"".join(parts)
    children = _CHILDREN[kind]
    parts, changed, last = [], False, start
    for field, wire, value, s, e in _fields(buf, start, end):
        child = children.get(field)
        if child is None or wire != 2:
            continue
        new = _rewrite(child, buf, value[0], value[1], data_of, depth + 1)
        if new is None:
            continue
        parts.append(bytes(buf[last:s]))
        parts.append(_encode_varint((field << 3) | 2) + _encode_varint(len(new)) + new)
        last, changed = e, True
    if not changed:
        return None
    parts.append(bytes(buf[last:end]))
    return b"".join(parts)


def inline_external(data, data_of) -> bytes:
    """The serialized model with every externally stored tensor's bytes moved into its ``raw_data``
    (``data_location`` and ``external_data`` dropped); ``data_of(ref)`` gives the bytes of an
    :class:`ExternalRef`. A model without external tensors comes back unchanged."""
    buf = memoryview(data)
    new = _rewrite("model", buf, 0, len(buf), data_of, 0)
    return bytes(data) if new is None else new
