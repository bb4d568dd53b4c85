"""Remote parts: other machines' resources shown as this machine's own.

Transport-neutral. A :class:`RemoteLink` (provided by a plugin through the
``viamlite_remote_link`` hook; the bundled one speaks gRPC) keeps a connection to one
remote, its resource list and frames, and forwards calls as bytes. The
:class:`RemoteManager` owns the links of a machine and the table from local names
(``prefix`` + the remote's name) to links, with viam-server's rules:

* a local resource shadows a remote one of the same API and name;
* the same name from two remotes is left out (a warning names the ``prefix`` fix);
* remotes of remotes are flattened (``remote_path`` lists the remotes on the way);
* loops are cut: every machine has a random id, resource lists carry the ids of the
  machines each resource passed through (its *chain*), and a machine drops a resource
  whose chain holds its own id; forwarded calls carry the ids they passed through
  (metadata ``viamlite-via``) and a call that comes back is refused.
"""
from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from viamlite.config import RemoteConfig
from viamlite.errors import ConfigError
from viamlite.names import API, ResourceName

if TYPE_CHECKING:  # pragma: no cover
    pass

log = logging.getLogger("viamlite.remotes")

from viamlite.remotes.link import (
    ForwardOptions,
    Reachability,
    RemoteLink,
    VIA_KEY,
)

@dataclass(frozen=True)
class Route:
    """Where a local name leads: a link and the resource's name on that remote."""

    api: API
    name: str  # local (prefixed) name
    link: RemoteLink
    remote_name: str
    remote_path: tuple[str, ...]
    chain: tuple[str, ...] = ()

    @property
    def resource_name(self) -> ResourceName:
        return ResourceName(self.api, self.name, ":".join(self.remote_path))


@dataclass(frozen=True)
class RemoteStatus:
    """One remote resource for GetMachineStatus."""

    api: API
    name: str
    remote: str
    reachability: Reachability
    error: str = ""


@dataclass
class _Table:
    routes: dict[tuple[API, str], Route] = field(default_factory=dict)
    by_name: dict[str, list[Route]] = field(default_factory=dict)
    statuses: list[RemoteStatus] = field(default_factory=list)
    frames: list[tuple[str, str, Any, Any]] = field(default_factory=list)  # name, parent, pose, geometry


def service_matches(service: str, api: API) -> bool:
    """True when a proto service name (``viam.component.movementsensor.v1.MovementSensorService``)
    is plausibly ``api``'s service: the same type and subtype, underscores aside."""
    parts = service.split(".")
    if len(parts) < 4:
        return False
    return parts[-4] == api.type and parts[-3] == api.subtype.replace("_", "")


def service_name(api: API) -> str:
    """The Viam proto service of ``api`` by the Viam naming rule
    (``rdk:component:movement_sensor`` -> ``viam.component.movementsensor.v1.MovementSensorService``)."""
    camel = "".join(part.capitalize() for part in api.subtype.split("_"))
    return f"viam.{api.type}.{api.subtype.replace('_', '')}.v1.{camel}Service"


class RemoteManager:
    """The remote links of one machine and the names they bring.

    ``local_names`` returns the machine's own resource names (they shadow remote ones);
    ``on_change`` is called after the table changes (frames need rebuilding).
    """

    def __init__(self, plugins: Any, local_names: Callable[[], Iterable[ResourceName]],
                 on_change: Callable[[], None] | None = None) -> None:
        self.machine_id = uuid.uuid4().hex[:16]
        self._plugins = plugins
        self._local_names = local_names
        self._on_change = on_change
        self._links: dict[str, RemoteLink] = {}
        self._table = _Table()
        self._lock = threading.RLock()
        self._warned: set[tuple[API, str]] = set()
        self._closed = False

    # -- configuration ---------------------------------------------------------
    def prepare(self, remotes: Sequence[RemoteConfig]) -> dict[str, RemoteLink]:
        """New links for remotes that are new or changed (not started); raises ConfigError
        when no plugin can link to one of them. Nothing changes until :meth:`commit`."""
        created: dict[str, RemoteLink] = {}
        for cfg in remotes:
            old = self._links.get(cfg.name)
            if old is not None and old.config == cfg:
                continue
            link = self._plugins.hook.viamlite_remote_link(config=cfg, machine_id=self.machine_id)
            if link is None:
                for made in created.values():
                    made.close()
                raise ConfigError(f"no installed plugin can link to remote {cfg.name!r} at {cfg.address}",
                                  path=cfg.path or "remotes",
                                  fix="enable the bundled 'remote' plugin (check VIAMLITE_PLUGINS) or install one")
            created[cfg.name] = link
        return created

    def commit(self, remotes: Sequence[RemoteConfig], created: Mapping[str, RemoteLink]) -> None:
        """Make ``remotes`` the running set: start new links, close removed or replaced ones."""
        with self._lock:
            if self._closed:
                for link in created.values():
                    link.close()
                return
            wanted = {cfg.name for cfg in remotes}
            old = self._links
            links: dict[str, RemoteLink] = {}
            for cfg in remotes:
                links[cfg.name] = created.get(cfg.name) or old[cfg.name]
            self._links = links
        for name, link in old.items():
            if name not in wanted or links.get(name) is not link:
                log.info("remote %r removed or changed: closing its link", name)
                link.close()
        for name, link in created.items():
            log.info("remote %r: linking to %s", name, link.config.address)
            link.start(self.refresh)
        self.refresh()

    def apply(self, remotes: Sequence[RemoteConfig]) -> None:
        """``prepare`` then ``commit``."""
        self.commit(remotes, self.prepare(remotes))

    def links(self) -> list[RemoteLink]:
        return list(self._links.values())

    def close(self) -> None:
        with self._lock:
            self._closed = True
            links, self._links = self._links, {}
            self._table = _Table()
        for link in links.values():
            link.close()

    # -- the name table ----------------------------------------------------------
    def refresh(self) -> None:
        """Rebuild the table from the links' current lists (called on every change)."""
        with self._lock:
            links = list(self._links.values())
            local = set()
            for n in self._local_names():
                local.add((n.api, n.name))
            candidates: dict[tuple[API, str], list[Route]] = {}
            kept_by_link: dict[str, set[str]] = {}
            for link in links:
                kept = kept_by_link.setdefault(link.name, set())
                for res in link.resources:
                    if self.machine_id in res.chain:
                        continue  # our own resource, come back around a loop
                    kept.add(res.name)
                    route = Route(res.api, link.config.prefix + res.name, link, res.name,
                                  (link.name, *res.remote_path), res.chain)
                    candidates.setdefault((res.api, route.name), []).append(route)
            table = _Table()
            for key, routes in candidates.items():
                if key in local:
                    table.statuses += [RemoteStatus(r.api, r.name, r.link.name, Reachability.SHADOWED_BY_LOCAL,
                                                    f"a local resource named {r.name!r} shadows it") for r in routes]
                    continue
                if len(routes) > 1:
                    remotes = ", ".join(repr(r.link.name) for r in routes)
                    if key not in self._warned:
                        self._warned.add(key)
                        log.warning("%s %r is on remotes %s: it is left out; set a different \"prefix\" on "
                                    "these remotes (such as \"%s-\") to use each", key[0].subtype, key[1], remotes,
                                    routes[0].link.name)
                    table.statuses += [RemoteStatus(r.api, r.name, r.link.name, Reachability.AMBIGUOUS_REMOTE,
                                                    f"the name is on remotes {remotes}: set a prefix") for r in routes]
                    continue
                route = routes[0]
                table.routes[key] = route
                table.by_name.setdefault(route.name, []).append(route)
                reach = Reachability.REACHABLE if route.link.connected else Reachability.REMOTE_DISCONNECTED
                table.statuses.append(RemoteStatus(route.api, route.name, route.link.name, reach,
                                                   "" if route.link.connected else route.link.unavailable_message()))
            table.frames = _frames(links, kept_by_link)
            self._table = table
        if self._on_change is not None:
            self._on_change()

    def lookup(self, api: API, name: str) -> Route | None:
        """The route for resource ``name`` of ``api``, when a remote has it."""
        return self._table.routes.get((api, name))

    def route_for_path(self, path: str, name: str) -> Route | None:
        """The route for a call of ``path`` (``/package.Service/Method``) naming ``name``."""
        routes = self._table.by_name.get(name)
        if not routes:
            return None
        if len(routes) == 1:
            return routes[0]
        service = path.split("/")[1] if path.count("/") >= 2 else ""
        matches = [r for r in routes if r.link.services.get(service) == r.api or service_matches(service, r.api)]
        return matches[0] if len(matches) == 1 else None

    def routes(self) -> list[Route]:
        return list(self._table.routes.values())

    def statuses(self) -> list[RemoteStatus]:
        return list(self._table.statuses)

    def frames(self) -> list[tuple[str, str, Any, Any]]:
        """(name, parent, pose, geometry) of every frame the remotes bring."""
        return list(self._table.frames)

    def services(self) -> dict[API, str]:
        """API -> proto service name, for the APIs the remotes serve and report."""
        out: dict[API, str] = {}
        for link in self.links():
            for service, api in link.services.items():
                out.setdefault(api, service)
        return out

    # -- machine-wide actions ----------------------------------------------------
    def stop_all(self, via: Sequence[str] = ()) -> list[str]:
        """Stop every remote's actuators; return the errors, one line each.

        Remotes already in ``via`` (the machines the request passed through) are skipped,
        so machines that list each other stop once each.
        """
        errors = []
        for link in self.links():
            if link.peer_id and link.peer_id in via:
                continue
            if not link.connected:
                log.warning("StopAll: %s", link.unavailable_message())
                continue
            try:
                link.stop_all((*via, self.machine_id))
            except Exception as exc:
                errors.append(f"remote {link.name}: {getattr(exc, 'message', None) or exc}")
        return errors

    def stop(self, api: API, name: str, timeout: float = 2.0) -> bool:
        """Call ``Stop`` on remote resource ``name`` (an actuator a session moved); False when
        no remote has it. Raises :class:`viamlite.rpc.RpcError` when the remote fails."""
        from viamlite.remotes import protowire

        route = self.lookup(api, name)
        if route is None:
            return False
        service = next((s for s, a in route.link.services.items() if a == api), "") or service_name(api)
        request = protowire.replace_string(b"", route.remote_name, 1)
        route.link.unary(f"/{service}/Stop", request, ForwardOptions(
            timeout=timeout, metadata=((VIA_KEY, self.machine_id),)))
        return True

    def via(self, incoming: Sequence[tuple[str, Any]]) -> tuple[str, ...]:
        """The machine ids an incoming call passed through (from its metadata)."""
        for key, value in incoming:
            if key == VIA_KEY:
                text = value.decode() if isinstance(value, bytes) else str(value)
                return tuple(v for v in text.split(",") if v)
        return ()


def _frames(links: Sequence[RemoteLink], kept_by_link: Mapping[str, set[str]]) -> list[tuple[str, str, Any, Any]]:
    """Frames of the remotes' parts, prefixed, under ``<remote>_world`` or our world.

    Only frames of resources the table kept, and the frames they hang from, are taken:
    frames that came around a loop are left out with their resources.
    """
    out: list[tuple[str, str, Any, Any]] = []
    for link in links:
        cfg = link.config
        by_name = {f.name: f for f in link.frames}
        wanted: set[str] = set()
        for name in kept_by_link.get(link.name, ()):
            seen = 0
            while name in by_name and name not in wanted and seen < 1000:
                wanted.add(name)
                name = by_name[name].parent
                seen += 1
        root = "world"
        if cfg.frame is not None:
            root = cfg.world_frame
            out.append((root, cfg.frame.parent, cfg.frame.pose(), None))
        for frame in link.frames:
            if frame.name not in wanted:
                continue
            parent = root if frame.parent == "world" else cfg.prefix + frame.parent
            out.append((cfg.prefix + frame.name, parent, frame.pose, frame.geometry))
    return out


__all__ = ["RemoteManager", "RemoteStatus", "Route", "service_matches", "service_name"]
