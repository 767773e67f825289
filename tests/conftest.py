"""Shared fixtures. Real data comes from ../shared/data (override: REASONINGREC_TEST_DATA);
tests never touch the network or the Hub."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def _shared_data() -> Path:
    env = os.environ.get("REASONINGREC_TEST_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = _shared_data()
    if not (path / "reasoningrec" / "ml_1m").is_dir():
        pytest.fail(f"real test data not found at {path}: the tests read ../shared/data "
                    "(or set REASONINGREC_TEST_DATA)")
    return path


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Caches (embeddings, ...) go to one session-wide temp folder, never ~/.cache."""
    monkeypatch.setenv("REASONINGREC_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session", autouse=True)
def _isolated_ratings(tmp_path_factory):
    """The app's ratings store (every app fixture opens one) goes to a temp folder too; session
    scope, so it is in place before module-scoped app fixtures start."""
    os.environ["REASONINGREC_RATINGS_DIR"] = str(tmp_path_factory.mktemp("ratings"))


@pytest.fixture(scope="session")
def ml1m(data_dir):
    """The paper's ML-1M protocol, loaded once a session."""
    from reasoningrec.data import load_dataset
    return load_dataset("ml1m", data_dir)


@pytest.fixture(scope="session")
def fashion(data_dir):
    """The paper's Amazon Fashion data, loaded once a session."""
    from reasoningrec.data import load_dataset
    return load_dataset("fashion", data_dir)


@pytest.fixture
def fashion_copy(data_dir, tmp_path):
    """Builds <tmp>/reasoningrec/fashion with every data file symlinked, so a test can add or
    break one; `outputs`: the given teacher/authors files (paths under the dataset folder) are
    real copies, the rest of teacher/ and authors_student/ is left out. Returns the folder."""
    def build(outputs: tuple[str, ...] = ()) -> Path:
        source = data_dir / "reasoningrec" / "fashion"
        target = tmp_path / "reasoningrec" / "fashion"
        target.mkdir(parents=True)
        for path in source.iterdir():
            if path.name not in ("teacher", "authors_student"):
                (target / path.name).symlink_to(path)
        for rel in outputs:
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            (target / rel).write_bytes((source / rel).read_bytes())
        return target
    return build
