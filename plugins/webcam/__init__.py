"""The bundled ``webcam`` plugin: viam-server's ``rdk:builtin:webcam`` camera model on Linux.

A USB (UVC) camera read through V4L2 with `linuxpy <https://pypi.org/project/linuxpy/>`_
(pure Python, 32- and 64-bit ARM alike). Frames are taken as the camera sends them,
MJPEG, and served as JPEG with no decode; a background reader keeps the latest one
(:mod:`.reader`). A config written for viam-server runs unchanged: ``video_path``,
``width_px``, ``height_px``, ``frame_rate``, ``format``, ``intrinsic_parameters``,
``distortion_parameters`` (:mod:`.camera`). A missing or busy device leaves the resource
unhealthy, with the device it tried and what to do (:mod:`.device`).

Loading this plugin imports neither a model module nor linuxpy (``pip install -e
'.[webcam]'``); they are imported when a config names the model.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from viamlite.hookspecs import hookimpl
from viamlite.names import API
from viamlite.registry import LazyModel

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.registry import ModelRegistry

MODELS = [LazyModel(API.component("camera"), "rdk:builtin:webcam", "camera:Webcam")]


@hookimpl
def viamlite_register_models(registry: "ModelRegistry") -> None:
    """Register ``rdk:builtin:webcam``."""
    registry.register_lazy_models(__name__, MODELS)
