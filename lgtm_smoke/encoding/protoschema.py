"""Build protobuf message classes at run time from a compact schema: no protoc, no
generated code to keep in sync. Field numbers and types are copied from the upstream
.proto files named in each schema's module.
"""
from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto
SCALARS = {
    "string": _F.TYPE_STRING,
    "bytes": _F.TYPE_BYTES,
    "double": _F.TYPE_DOUBLE,
    "int64": _F.TYPE_INT64,
    "uint64": _F.TYPE_UINT64,
    "int32": _F.TYPE_INT32,
    "uint32": _F.TYPE_UINT32,
    "bool": _F.TYPE_BOOL,
}


def build(package: str, messages: dict[str, list[tuple]], filename: str | None = None) -> dict[str, type]:
    """messages: {MsgName: [(field_name, number, type, "repeated"?), ...]}.

    `type` is a scalar name, a message of this schema, or ".google.protobuf.Timestamp".
    A fresh pool per schema keeps names from colliding with anything else loaded.
    """
    pool = descriptor_pool.DescriptorPool()
    fdp = descriptor_pb2.FileDescriptorProto(name=filename or f"{package}.proto", package=package, syntax="proto3")
    uses_timestamp = any(f[2] == ".google.protobuf.Timestamp" for fields in messages.values() for f in fields)
    if uses_timestamp:
        from google.protobuf import timestamp_pb2

        ts = descriptor_pb2.FileDescriptorProto()
        timestamp_pb2.DESCRIPTOR.CopyToProto(ts)
        pool.Add(ts)
        fdp.dependency.append(ts.name)
    for msg_name, fields in messages.items():
        msg = fdp.message_type.add(name=msg_name)
        for spec in fields:
            name, number, ftype = spec[:3]
            repeated = len(spec) > 3 and spec[3] == "repeated"
            field = msg.field.add(name=name, number=number)
            field.label = _F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL
            if ftype in SCALARS:
                field.type = SCALARS[ftype]
            else:
                field.type = _F.TYPE_MESSAGE
                field.type_name = ftype if ftype.startswith(".") else f".{package}.{ftype}"
            if repeated and ftype in SCALARS and ftype not in ("string", "bytes"):
                field.options.packed = True
    pool.Add(fdp)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.{name}")) for name in messages
    }
