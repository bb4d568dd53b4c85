"""Field-by-field comparison of our protobuf descriptors with a reference's (the viam-sdk's).

``differences(ours, theirs_pool)`` walks every message, enum and service of our file
descriptors, and the types they reach in other files, and lists each way in which they
differ from the same-named descriptors of the reference pool: a missing name, a number, a
type, a label, a message or enum type name, a oneof, proto3 presence, a map's key or value,
an enum value, a method's types or streaming flags. We may leave things out (a subset); we
may never add or renumber. An empty list means wire-compatible.
"""
from __future__ import annotations

from collections.abc import Iterable

from google.protobuf import descriptor as _d
from google.protobuf.descriptor import FieldDescriptor

_TYPES = {v: k[len("TYPE_"):].lower() for k, v in vars(FieldDescriptor).items() if k.startswith("TYPE_")}


def _type_of(field: FieldDescriptor) -> str:
    if field.message_type is not None:
        return field.message_type.full_name
    if field.enum_type is not None:
        return field.enum_type.full_name
    return _TYPES[field.type]


def _oneof_of(field: FieldDescriptor) -> str | None:
    return field.containing_oneof.name if field.containing_oneof is not None else None


def _facts(field: FieldDescriptor) -> dict[str, object]:
    """The wire facts of one field, as comparable values."""
    facts: dict[str, object] = {
        "number": field.number,
        "type": _TYPES[field.type],
        "label": "repeated" if field.is_repeated else "required" if field.is_required else "optional",
        "type name": _type_of(field),
        "oneof": _oneof_of(field),
        "presence": field.has_presence,
    }
    entry = field.message_type
    if entry is not None and entry.GetOptions().map_entry:
        key, value = entry.fields_by_name["key"], entry.fields_by_name["value"]
        facts["type name"] = f"map<{_type_of(key)}, {_type_of(value)}>"
    return facts


class _Walk:
    def __init__(self, reference: _d.DescriptorPool) -> None:
        self.reference = reference
        self.problems: list[str] = []
        self.seen: set[str] = set()

    def find(self, kind: str, name: str) -> object | None:
        finder = {"message": self.reference.FindMessageTypeByName, "enum": self.reference.FindEnumTypeByName,
                  "service": self.reference.FindServiceByName}[kind]
        try:
            return finder(name)
        except KeyError:
            self.problems.append(f"{kind} {name}: not in the reference")
            return None

    def message(self, ours: _d.Descriptor) -> None:
        if ours.full_name in self.seen or ours.GetOptions().map_entry:
            return
        self.seen.add(ours.full_name)
        theirs = self.find("message", ours.full_name)
        for field in ours.fields:
            if field.message_type is not None:
                entry = field.message_type
                if entry.GetOptions().map_entry:
                    for part in entry.fields:
                        if part.message_type is not None:
                            self.message(part.message_type)
                        if part.enum_type is not None:
                            self.enum(part.enum_type)
                else:
                    self.message(entry)
            if field.enum_type is not None:
                self.enum(field.enum_type)
        for nested in ours.nested_types:
            self.message(nested)
        for nested in ours.enum_types:
            self.enum(nested)
        if not isinstance(theirs, _d.Descriptor):
            return
        for field in ours.fields:
            where = f"{ours.full_name}.{field.name}"
            other = theirs.fields_by_name.get(field.name)
            if other is None:
                self.problems.append(f"field {where}: not in the reference")
                continue
            mine, their = _facts(field), _facts(other)
            for key in mine:
                if mine[key] != their[key]:
                    self.problems.append(f"field {where}: {key} is {mine[key]!r}, the reference's is {their[key]!r}")
        for oneof in ours.oneofs:
            other_oneof = theirs.oneofs_by_name.get(oneof.name)
            if other_oneof is None:
                self.problems.append(f"oneof {ours.full_name}.{oneof.name}: not in the reference")

    def enum(self, ours: _d.EnumDescriptor) -> None:
        if ours.full_name in self.seen:
            return
        self.seen.add(ours.full_name)
        theirs = self.find("enum", ours.full_name)
        if not isinstance(theirs, _d.EnumDescriptor):
            return
        for value in ours.values:
            other = theirs.values_by_name.get(value.name)
            if other is None:
                self.problems.append(f"enum value {ours.full_name}.{value.name}: not in the reference")
            elif other.number != value.number:
                self.problems.append(f"enum value {ours.full_name}.{value.name}: number is {value.number}, "
                                     f"the reference's is {other.number}")

    def service(self, ours: _d.ServiceDescriptor) -> None:
        theirs = self.find("service", ours.full_name)
        for method in ours.methods:
            self.message(method.input_type)
            self.message(method.output_type)
            if not isinstance(theirs, _d.ServiceDescriptor):
                continue
            where = f"{ours.full_name}/{method.name}"
            other = theirs.methods_by_name.get(method.name)
            if other is None:
                self.problems.append(f"method {where}: not in the reference")
                continue
            for key, mine, their in (
                ("input type", method.input_type.full_name, other.input_type.full_name),
                ("output type", method.output_type.full_name, other.output_type.full_name),
                ("client streaming", method.client_streaming, other.client_streaming),
                ("server streaming", method.server_streaming, other.server_streaming),
            ):
                if mine != their:
                    self.problems.append(f"method {where}: {key} is {mine!r}, the reference's is {their!r}")


def differences(files: Iterable[_d.FileDescriptor], reference: _d.DescriptorPool) -> list[str]:
    """Every way in which the files' messages, enums and services (and the types they reach)
    differ from the same-named ones in ``reference``; empty when they are wire-compatible."""
    walk = _Walk(reference)
    for file in files:
        for enum in file.enum_types_by_name.values():
            walk.enum(enum)
        for message in file.message_types_by_name.values():
            walk.message(message)
        for service in file.services_by_name.values():
            walk.service(service)
    return walk.problems


def names(files: Iterable[_d.FileDescriptor]) -> set[str]:
    """The full names of every message, enum and service the files define (nested ones too)."""
    out: set[str] = set()

    def visit(message: _d.Descriptor) -> None:
        if message.GetOptions().map_entry:
            return
        out.add(message.full_name)
        out.update(e.full_name for e in message.enum_types)
        for nested in message.nested_types:
            visit(nested)

    for file in files:
        out.update(e.full_name for e in file.enum_types_by_name.values())
        out.update(s.full_name for s in file.services_by_name.values())
        for message in file.message_types_by_name.values():
            visit(message)
    return out
