"""Generate the gizmo API's Python code (gizmo_pb2.py, gizmo_grpc.py for grpclib) beside
gizmo.proto with grpc_tools, when missing or older than the proto."""
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUTS = ("gizmo_pb2.py", "gizmo_grpc.py")


def ensure() -> None:
    proto = HERE / "gizmo.proto"
    if all((HERE / name).exists() and (HERE / name).stat().st_mtime >= proto.stat().st_mtime for name in OUTPUTS):
        return
    from grpc_tools import protoc

    include = Path(protoc.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        plugin = Path(tmp) / "protoc-gen-grpclib_python"
        plugin.write_text(f"#!{sys.executable}\nfrom grpclib.plugin.main import main\nmain()\n")
        plugin.chmod(0o755)
        out = Path(tmp) / "out"
        out.mkdir()
        args = ["protoc", f"-I{HERE}", f"-I{include}", f"--plugin=protoc-gen-grpclib_python={plugin}",
                f"--python_out={out}", f"--grpclib_python_out={out}", str(proto)]
        if protoc.main(args) != 0:
            raise SystemExit("protoc could not generate the gizmo API's code")
        for name in OUTPUTS:
            os.replace(out / name, HERE / name)  # atomic: a module starting at the same time sees whole files


if __name__ == "__main__":
    ensure()
