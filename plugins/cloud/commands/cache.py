"""The login: ``$VIAMLITE_HOME/cli.json`` (default ``~/.viamlite``), file 0600 in a 0700 folder.

    {"base_url": "https://app.viam.com", "auth": {"key_id": "...", "key": "..."}}

It belongs to one app (``base_url``): a command given another ``--base-url`` is refused
until the user logs out. The file holds a secret, so it is written atomically and never
readable by other users.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from viamlite_plugins.cloud.commands.errors import CommandError

FILE_NAME = "cli.json"


def home() -> Path:
    return Path(os.environ.get("VIAMLITE_HOME") or Path.home() / ".viamlite")


def path() -> Path:
    return home() / FILE_NAME


@dataclass(frozen=True)
class Login:
    base_url: str
    key_id: str
    key: str

    @property
    def who(self) -> str:
        """How the Viam CLI names an API-key login."""
        return f"key-{self.key_id}"


def load() -> Login | None:
    """The login, or None when there is none."""
    file = path()
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        auth = data["auth"]
        return Login(str(data["base_url"]), str(auth["key_id"]), str(auth["key"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CommandError(f"cannot read the login in {file} ({exc}); log in again (viamlite login api-key), "
                           f"which rewrites it") from None


def save(login: Login) -> Path:
    """Write ``login`` (replacing any), 0600 in a 0700 folder; its path."""
    folder = home()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        fd, tmp = tempfile.mkstemp(prefix=".cli-", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"base_url": login.base_url, "auth": {"key_id": login.key_id, "key": login.key}}, out,
                          indent=2)
            os.chmod(tmp, 0o600)
            os.replace(tmp, folder / FILE_NAME)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise CommandError(f"cannot keep the login in {folder / FILE_NAME}: {exc.strerror or exc} (set VIAMLITE_HOME "
                           f"to a folder you can write)") from None
    return folder / FILE_NAME


def clear() -> Login | None:
    """Forget the login; the one forgotten, or None."""
    login = load()
    try:
        path().unlink()
    except FileNotFoundError:
        return None
    return login
