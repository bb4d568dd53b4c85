"""Registry modules on a machine: a ``{"type": "registry", "module_id": "ns:name",
"version": "1.2.3"}`` entry of ``modules`` runs the entrypoint of the module's package,
fetched from the machine's fleet and kept on disk.

As viam-server does it, in two steps: the app resolves the module to a package
(``viam.app.packages.v1.PackageService/GetPackage{id "ns/name", version, type MODULE,
platform}`` answers the exact version, the platform's package or ``any``'s, its checksum
and URL), then the machine fetches the package. Viam's URL is HTTPS; a viamlite fleet's is
``viamlite-package:...``, the ``PackageDownloadService/DownloadPackage`` stream on the same
connection and credentials (the fleet serves only gRPC). The machine asks for its own
platform (``linux/amd64``, ``linux/arm64``, ``linux/arm``, ...).

On disk: ``$VIAMLITE_HOME/packages/<module_id>/<version>/`` (unpacked, with
``.viamlite-package.json``: the entrypoint, checksum and platform). A package is checked
before it is used: the checksum GetPackage gave, every member inside the folder (absolute
paths, ``..`` and links leading out are refused, as are devices), and the entrypoint a file
inside it that may be executed. It is unpacked beside its folder and renamed into place,
so a half-unpacked package is never run. Once there, the machine needs no fleet: an exact
version is used from disk without asking, and ``latest`` (or no version) asks the fleet
and, when it cannot be reached, runs the newest version on disk.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import platform as _platform
import shutil
import tarfile
import tempfile
import threading
import weakref
from pathlib import Path
from typing import Any

from viamlite.config import CloudConfig, ModuleConfig
from viamlite.errors import ConnectError, ViamliteError
from viamlite_plugins.cloud.member.link import FleetLink

log = logging.getLogger("viamlite.cloud")

GET_PACKAGE = "/viam.app.packages.v1.PackageService/GetPackage"
DOWNLOAD = "/viamlite.app.packages.v1.PackageDownloadService/DownloadPackage"
URL_SCHEME = "viamlite-package:"
MARKER = ".viamlite-package.json"
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm",
         "armv6l": "arm", "armv8l": "arm", "i686": "386", "i386": "386"}
_clouds: "weakref.WeakKeyDictionary[Any, CloudConfig]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


class PackageError(ViamliteError, RuntimeError):
    """A package that cannot be had or is not fit to run (says which, and why)."""


def this_platform() -> str:
    """This host's platform as the registry spells it (``linux/arm64``)."""
    machine = _platform.machine().lower()
    return f"{_platform.system().lower()}/{_ARCH.get(machine, machine)}"


def packages_folder() -> Path:
    from viamlite.transport.tlscert import viamlite_home

    return viamlite_home() / "packages"


def remember(machine: Any, cloud: CloudConfig) -> None:
    """The fleet of the config ``machine`` is applying (its modules start before it is its config)."""
    _clouds[machine] = cloud


class PackageLink(FleetLink):
    """The member's link, for the package calls (another service than RobotService)."""

    def _calling(self, path: str, request: Any, response_type: Any, timeout: float, stream: bool) -> Any:
        return self.invoke(path, request, response_type, timeout, kind="unary_stream" if stream else "unary")

    def get_package(self, module_id: str, version: str, platform: str, timeout: float = 10.0) -> Any:
        from viamlite.gen.app import packages_pb2 as pb

        request = pb.GetPackageRequest(id=module_id.replace(":", "/", 1), version=version or "latest",
                                       include_url=True, type=pb.PACKAGE_TYPE_MODULE, platform=platform)
        return self._calling(GET_PACKAGE, request, pb.GetPackageResponse, timeout, stream=False).package

    def download(self, package: Any, timeout: float = 300.0) -> bytes:
        from viamlite.gen.app import package_download_pb2 as pb

        if not package.url.startswith(URL_SCHEME):
            raise PackageError(f"the fleet gave package URL {package.url[:80]!r}, which this machine cannot fetch "
                               f"(it fetches {URL_SCHEME} URLs of a viamlite fleet)")
        request = pb.DownloadPackageRequest(id=package.id, version=package.info.version,
                                            platform=package.info.platform)
        replies = self._calling(DOWNLOAD, request, pb.DownloadPackageResponse, timeout, stream=True)
        return b"".join(r.data for r in replies)


# -- on disk -----------------------------------------------------------------------------


def _module_folder(module_id: str) -> Path:
    if "/" in module_id or module_id.startswith(".") or "\0" in module_id:
        raise PackageError(f"module_id {module_id!r} cannot name a folder")
    return packages_folder() / module_id


def _entrypoint_in(folder: Path, entrypoint: str) -> Path:
    """The entrypoint's path, checked: inside ``folder``, a file, executable."""
    if not entrypoint:
        raise PackageError("the package names no entrypoint (meta.json's entrypoint, set by module update)")
    path = (folder / entrypoint).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise PackageError(f"the entrypoint {entrypoint!r} is outside the package")
    if not path.is_file():
        raise PackageError(f"the package has no entrypoint {entrypoint!r}: upload a package that holds it")
    if not os.access(path, os.X_OK):
        raise PackageError(f"the entrypoint {entrypoint!r} is not executable: chmod +x it before packing")
    return path


def _versions_on_disk(module_id: str) -> list[tuple[str, dict[str, Any]]]:
    folder = _module_folder(module_id)
    out = []
    if folder.is_dir():
        for child in folder.iterdir():
            marker = child / MARKER
            if child.is_dir() and marker.is_file():
                try:
                    out.append((child.name, json.loads(marker.read_text())))
                except (OSError, ValueError):
                    continue
    return out


def _version_key(version: str) -> tuple[Any, ...]:
    main, _, pre = version.partition("-")
    try:
        numbers = tuple(int(p) for p in main.split("."))
    except ValueError:
        return (-1,)
    return (*numbers, not pre, pre)


def on_disk(module_id: str, version: str) -> Path | None:
    """The checked entrypoint of ``module_id`` ``version`` on disk ("latest"/"": the newest), or None."""
    found = _versions_on_disk(module_id)
    if version and version != "latest":
        found = [(v, m) for v, m in found if v == version]
    if not found:
        return None
    best, meta = max(found, key=lambda vm: _version_key(vm[0]))
    return _entrypoint_in(_module_folder(module_id) / best, str(meta.get("entrypoint", "")))


def unpack(data: bytes, module_id: str, version: str, entrypoint: str, *, checksum: str = "",
           platform: str = "") -> Path:
    """Check and unpack a package into its folder; the entrypoint's path."""
    if checksum:
        algorithm, _, digest = checksum.partition(":")
        if algorithm != "sha256" or hashlib.sha256(data).hexdigest() != digest:
            raise PackageError(f"the package of {module_id} {version} does not match its checksum {checksum[:80]}: "
                               f"it was damaged on the way; it is fetched again on the next start")
    if not version or "/" in version or version.startswith("."):
        raise PackageError(f"version {version!r} cannot name a folder")
    parent = _module_folder(module_id)
    parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=parent))
    try:
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
                for member in tar.getmembers():  # refused, not rewritten: a package that tries is not trusted
                    name = member.name
                    if name.startswith("/") or ".." in Path(name).parts:
                        raise tarfile.FilterError(f"member {name!r} leads outside the package")
                tar.extractall(work, filter="data")  # also refuses links leading out, and devices
        except tarfile.FilterError as exc:
            raise PackageError(f"the package of {module_id} {version} is refused: {exc}") from None
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise PackageError(f"the package of {module_id} {version} is not a .tar.gz that unpacks: {exc}") from None
        _entrypoint_in(work, entrypoint)
        (work / MARKER).write_text(json.dumps({"module_id": module_id, "version": version, "entrypoint": entrypoint,
                                               "checksum": checksum, "platform": platform}))
        target = parent / version
        with _lock:
            if target.exists():
                shutil.rmtree(target)
            os.rename(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return _entrypoint_in(target, entrypoint)


# -- the hook ----------------------------------------------------------------------------


def executable(config: ModuleConfig, machine: Any) -> str | None:
    """The entrypoint to run for registry entry ``config`` (see the module docstring)."""
    if config.type != "registry":
        return None
    module_id, version = config.module_id, config.version or "latest"
    try:
        if version != "latest":
            path = on_disk(module_id, version)
            if path is not None:
                return str(path)
        cloud = _clouds.get(machine) or getattr(getattr(machine, "config", None), "cloud", None)
        if cloud is None or not cloud.app_address:
            path = on_disk(module_id, version) if version == "latest" else None
            if path is not None:
                return str(path)
            raise PackageError(f"registry module {module_id} {version} is not on this machine "
                               f"({packages_folder() / module_id}) and the machine has no fleet to fetch it from "
                               f"(a cloud block with app_address)")
        return str(_fetch(cloud, module_id, version))
    except PackageError as exc:
        raise RuntimeError(str(exc)) from None


def _fetch(cloud: CloudConfig, module_id: str, version: str) -> Path:
    link = PackageLink(cloud)
    try:
        platform = this_platform()
        try:
            package = link.get_package(module_id, version, platform)
        except ConnectError as exc:
            path = on_disk(module_id, version)
            if path is not None:
                log.warning("module %s: the fleet is unreachable (%s); running version %s from disk",
                            module_id, exc, path.parent.name)
                return path
            raise PackageError(f"registry module {module_id} {version} is not on this machine and the fleet "
                               f"cannot be reached: {exc}") from None
        except ViamliteError as exc:  # refused: not found, not allowed, the part's secret refused
            raise PackageError(f"registry module {module_id} {version}: {exc}") from None
        resolved = package.info.version
        path = on_disk(module_id, resolved)
        if path is not None:
            return path
        entrypoint = package.info.metadata["entrypoint"] if "entrypoint" in package.info.metadata else ""
        try:
            data = link.download(package)
        except ViamliteError as exc:
            raise PackageError(f"registry module {module_id} {resolved}: the package could not be "
                               f"downloaded: {exc}") from None
        path = unpack(data, module_id, resolved, str(entrypoint), checksum=package.checksum,
                      platform=package.info.platform)
        log.info("module %s %s (%s) fetched from the fleet into %s", module_id, resolved, package.info.platform,
                 path.parent)
        return path
    finally:
        link.close()


__all__ = ["PackageError", "PackageLink", "executable", "on_disk", "packages_folder", "remember", "this_platform",
           "unpack"]
