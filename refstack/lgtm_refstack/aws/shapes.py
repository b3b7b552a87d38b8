"""Hold a raw AWS response body to botocore's output shape of its operation: every member
sent must be one the model has (AWS never sends what its model lacks, and botocore would
drop it silently), nested as the model nests it, with scalars of the model's types.

JSON protocols (ECS, Cloud Map, Logs) are checked key by key; XML protocols (ELBv2,
ElastiCache, STS: query; S3: rest-xml) element by element. `problems(...)` returns one line
per violation, naming the path (e.g. `ServiceDeployment.rolledBackTo: not in the model`).
"""

from __future__ import annotations

import json
from xml.etree import ElementTree

SCALARS = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "double": (int, float),
    "float": (int, float),
    "timestamp": (int, float, str),
    "blob": (str,),
}


def problems(operation_model, body: bytes) -> list[str]:
    shape = operation_model.output_shape
    if shape is None or not body or not body.strip():
        return []
    protocol = operation_model.metadata["protocol"]
    if protocol in ("json", "rest-json"):
        return _json(shape, json.loads(body), shape.name)
    root = ElementTree.fromstring(body)
    if root.tag.rsplit("}", 1)[-1] in ("ErrorResponse", "Error"):
        return []
    payload = shape.serialization.get("payload")
    if payload:  # rest-xml: the body is that one member (e.g. PublicAccessBlockConfiguration)
        member = shape.members[payload]
        return _xml(member, root, f"{shape.name}.{payload}") if member.type_name == "structure" else []
    if protocol == "query":  # <OpResponse><OpResult>...</OpResult><ResponseMetadata/></OpResponse>
        wrapper = operation_model.output_shape.serialization.get("resultWrapper") or f"{operation_model.name}Result"
        result = next((c for c in root if _tag(c) == wrapper), None)
        return _xml_members(shape, result, shape.name) if result is not None else []
    return _xml_members(shape, root, shape.name)


def _json(shape, value, path: str) -> list[str]:
    if value is None:
        return []
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: a {type(value).__name__}, the model has a structure"]
        names = {m.serialization.get("name", n): (n, m) for n, m in shape.members.items()}
        out = []
        for key, item in value.items():
            if key not in names:
                out.append(f"{path}.{key}: not in the model ({shape.name} has {', '.join(sorted(names))})")
            else:
                out += _json(names[key][1], item, f"{path}.{key}")
        return out
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: a {type(value).__name__}, the model has a list"]
        return [p for i, item in enumerate(value) for p in _json(shape.member, item, f"{path}[{i}]")]
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: a {type(value).__name__}, the model has a map"]
        return [p for k, item in value.items() for p in _json(shape.value, item, f"{path}[{k}]")]
    ok = SCALARS.get(kind, (object,))
    if not isinstance(value, ok) or (kind in ("integer", "long") and isinstance(value, bool)):
        return [f"{path}: {value!r} is not a {kind}"]
    if getattr(shape, "enum", None) and value not in shape.enum:
        return [f"{path}: {value!r} is not one of {shape.enum}"]
    return []


def _tag(el) -> str:
    return el.tag.rsplit("}", 1)[-1]


def _xml_members(shape, el, path: str) -> list[str]:
    if shape.type_name != "structure":
        return _xml(shape, el, path)
    names = {}
    for n, m in shape.members.items():
        if m.serialization.get("location") in ("header", "headers", "statusCode"):
            continue
        flat = m.type_name == "list" and (m.serialization.get("flattened") or m.member.serialization.get("flattened"))
        names[
            (
                m.member.serialization.get("name", m.serialization.get("name", n))
                if flat
                else m.serialization.get("name", n)
            )
        ] = (m, flat)
    out = []
    for child in el:
        tag = _tag(child)
        if tag not in names:
            if tag not in ("ResponseMetadata", "RequestId", "requestId"):
                out.append(f"{path}.{tag}: not in the model ({shape.name} has {', '.join(sorted(names))})")
            continue
        member, flat = names[tag]
        out += _xml(member.member, child, f"{path}.{tag}") if flat else _xml(member, child, f"{path}.{tag}")
    return out


def _xml(shape, el, path: str) -> list[str]:
    kind = shape.type_name
    if kind == "structure":
        return _xml_members(shape, el, path)
    if kind == "list":
        item_name = shape.member.serialization.get("name", "member")
        return [
            p
            for i, child in enumerate(el)
            for p in (
                [f"{path}[{i}]: element {_tag(child)}, the model's list items are {item_name}"]
                if _tag(child) != item_name
                else _xml(shape.member, child, f"{path}[{i}]")
            )
        ]
    if kind == "map":
        return []  # the stack's XML responses carry no maps the checks read
    if len(el):
        return [f"{path}: nested elements, the model has a {kind}"]
    text = (el.text or "").strip()
    if kind in ("integer", "long") and text and not text.lstrip("-").isdigit():
        return [f"{path}: {text!r} is not a {kind}"]
    if kind == "boolean" and text not in ("true", "false", ""):
        return [f"{path}: {text!r} is not a boolean"]
    if getattr(shape, "enum", None) and text and text not in shape.enum:
        return [f"{path}: {text!r} is not one of {shape.enum}"]
    return []


def recorder(found: list[str]):
    """A botocore `before-parse` handler appending every violation to `found`."""

    def check(operation_model, response_dict, **_):
        if response_dict.get("status_code", 200) < 300:
            body = response_dict.get("body") or b""
            found.extend(
                f"{operation_model.service_model.service_name}.{operation_model.name}: {p}"
                for p in problems(operation_model, body)
            )

    return check
