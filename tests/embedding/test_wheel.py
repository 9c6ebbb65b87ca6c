"""The wheel, installed into a fresh virtual environment next to a consumer project that has its own ``app``
package, runs that project's tests with the plugin (loaded through its pytest11 entry point).

The fresh environment gets the wheel alone (``--no-deps``); its dependencies are this environment's, seen
through a .pth file (which adds the directory only: the .pth files in it, this checkout's editable
``app``/``zstack_mock`` finder among them, are not run). That keeps the test offline: about 10 to 25 seconds, most of it building the wheel and running pytest.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 300

CONSUMER_FILES = {
    "app/__init__.py": 'NAME = "the consumer\'s own app"\n',
    "app/inventory.py": textwrap.dedent('''\
        import httpx


        def image_names(url: str, session: str) -> list[str]:
            answer = httpx.get(f"{url}/zstack/v1/images", headers={"Authorization": f"OAuth {session}"})
            answer.raise_for_status()
            return sorted(image["name"] for image in answer.json()["inventories"])
        '''),
    "pyproject.toml": textwrap.dedent('''\
        [tool.pytest.ini_options]
        pythonpath = ["."]
        filterwarnings = ["error"]
        addopts = "--strict-markers -p no:cacheprovider"
        '''),
    "tests/test_inventory.py": textwrap.dedent('''\
        import os
        from pathlib import Path

        import httpx
        import pytest

        import app
        import zstack_mock
        from app.inventory import image_names


        def test_app_is_the_consumers_and_zstack_mock_the_wheels():
            assert app.NAME == "the consumer's own app"
            assert Path(zstack_mock.__file__).is_relative_to(os.environ["FRESH_SITE"])


        def test_the_plugins_fixtures(zstack_url, zstack_session):
            assert len(image_names(zstack_url, zstack_session)) == 3


        @pytest.mark.zstack_fault(operation="QueryImage", error="SYS.1000")
        def test_a_fault_marker(zstack_url, zstack_session, zstack_control):
            with pytest.raises(httpx.HTTPStatusError):
                image_names(zstack_url, zstack_session)
            zstack_control.assert_called("QueryImage", times=1)


        def test_the_embedded_server_by_hand():
            with zstack_mock.MockServer(api_mode="async") as server:
                assert server.control.health().accounts == 3
        '''),
}


def run(*command: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    result = subprocess.run([str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def test_the_wheel_in_a_fresh_environment_beside_a_consumer_with_its_own_app(tmp_path: Path) -> None:
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", tmp_path / "dist", ROOT)
    (wheel,) = (tmp_path / "dist").glob("zstack_mock-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/", 1)[0] for name in names} == {"zstack_mock", wheel.name.split("-py3")[0] + ".dist-info"}
    assert "zstack_mock/_fixtures/default.yaml" in names

    fresh = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", fresh)
    python = fresh / "bin" / "python"
    fresh_site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip())
    (fresh_site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel)

    assert "serve" in run(fresh / "bin" / "zstack-mock", "--help")
    assert "serve" in run(python, "-m", "zstack_mock", "--help")

    consumer = tmp_path / "consumer"
    for name, text in CONSUMER_FILES.items():
        (consumer / name).parent.mkdir(parents=True, exist_ok=True)
        (consumer / name).write_text(text)
    env = {"PATH": str(fresh / "bin"), "HOME": str(tmp_path), "FRESH_SITE": str(fresh_site)}
    output = run(python, "-m", "pytest", "-q", cwd=consumer, env=env)
    assert "4 passed" in output, output
