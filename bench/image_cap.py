"""Image pixel cap benchmark: what re-encoding an uploaded image costs, by its pixel count.

    .venv/bin/python bench/image_cap.py [--sizes 2,4,8,12,16,24,32,40] [--kinds png-flat,...]
                                        [--repeat 3]

For each kind of image and size (megapixels, 4:3), writes a test file to a temporary folder,
then runs a fresh Python process that builds the app and passes the file's bytes through
`prepare_image`, the function the activity form uses (open, check, decode, scale to 1600 px,
re-encode). The limits (IMAGE_MAX_PIXELS, IMAGE_MAX_DECODE_BYTES, IMAGE_MAX_BYTES) are lifted
in that process so that every size is decoded. It reports the wall time of the call (median
of --repeat calls) and its peak memory: the growth of the process's resident-set high-water
mark (VmHWM in /proc/self/status, Linux) over what it held before the first call, and the mark
itself (what a worker would show). Pillow's image buffers are not Python objects, so
tracemalloc would not see them; ru_maxrss would not do either, as it carries the parent's
peak across exec. Last, whether the default limits take the file or refuse it.

Kinds: png-flat (an RGB PNG of one colour with a few lines: the "small file, many pixels"
upload), png-rgba (the same with an alpha channel), png-photo (a photo-like PNG: a large file,
and the most work for the PNG compression of the re-encoding), jpeg-photo (the photo as a
baseline JPEG, quality 85, as cameras write them), jpeg-progressive (the same, progressive),
jpeg-cmyk-progressive (the costliest JPEG: four channels, progressive) and webp-photo. The
file size is shown too: the form refuses files over IMAGE_MAX_BYTES (5 MB) before any of this.
Nothing is written inside the repository.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KINDS = (
    "png-flat",
    "png-rgba",
    "png-photo",
    "jpeg-photo",
    "jpeg-progressive",
    "jpeg-cmyk-progressive",
    "webp-photo",
)
DEFAULT_SIZES = "1,2,4,6,8,10,12,14,16,18,20,24,32,40,50"


def dimensions(megapixels: float) -> tuple[int, int]:
    """Width and height of a 4:3 image of about `megapixels`."""
    height = round(math.sqrt(megapixels * 1_000_000 * 3 / 4))
    return round(height * 4 / 3), height


def make_image(kind: str, size: tuple[int, int]) -> bytes:
    """The test file of one kind and size."""
    from PIL import Image, ImageDraw, ImageFilter

    Image.MAX_IMAGE_PIXELS = None
    width, height = size
    if kind in ("png-flat", "png-rgba"):
        mode = "RGBA" if kind == "png-rgba" else "RGB"
        image = Image.new(mode, size, (40, 110, 200, 255)[: len(mode)])
        draw = ImageDraw.Draw(image)
        for n in range(0, width, max(width // 20, 1)):
            draw.line([(n, 0), (width - n, height)], fill=(250, 200, 30, 180)[: len(mode)], width=9)
        out = io.BytesIO()
        image.save(out, "PNG", compress_level=9)
        return out.getvalue()
    # Photo-like: smooth colour gradients with fine noise, so the codec has real work to do.
    small = Image.merge(
        "RGB",
        [
            Image.linear_gradient("L").resize((64, 48)),
            Image.radial_gradient("L").resize((64, 48)),
            Image.effect_noise((64, 48), 60).filter(ImageFilter.SMOOTH),
        ],
    ).resize(size, Image.Resampling.BICUBIC)
    noise = Image.effect_noise(size, 12).convert("RGB")
    photo = Image.blend(small, noise, 0.15)
    out = io.BytesIO()
    if kind == "webp-photo":
        photo.save(out, "WEBP", quality=80, method=0)
    elif kind == "png-photo":
        photo.save(out, "PNG", compress_level=1)
    elif kind == "jpeg-cmyk-progressive":
        photo.convert("CMYK").save(out, "JPEG", quality=85, progressive=True)
    else:
        photo.save(out, "JPEG", quality=85, progressive=kind == "jpeg-progressive")
    return out.getvalue()


def peak_rss_kib() -> int:
    """The process's resident-set high-water mark (VmHWM), in KiB.

    Not ru_maxrss: that survives exec, so a child would start with its parent's peak.
    """
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE).group(1))


def measure(path: Path, repeat: int) -> dict:
    """In this (fresh) process: build the app and time prepare_image on the file's bytes."""
    from PIL import Image

    from directory import create_app
    from directory.activities.uploads import UploadError, prepare_image
    from directory.config import Defaults

    data = path.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "UPLOAD_FOLDER": tmp,
                "SEARCH_INDEX_DIR": tmp,
                "IMAGE_MAX_BYTES": len(data) + 1,
                # Lifted: the point is to see what decoding costs.
                "IMAGE_MAX_PIXELS": 10**10,
                "IMAGE_MAX_DECODE_BYTES": 10**12,
            }
        )
        Image.MAX_IMAGE_PIXELS = None
        with app.test_request_context():
            # A small image of the same format first: codec set-up is not the upload's cost.
            with Image.open(path) as probe:
                warm = io.BytesIO()
                Image.new("RGB", (64, 48)).save(warm, probe.format)
            prepare_image(warm.getvalue())
            before = peak_rss_kib()
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                prepared = prepare_image(data)
                times.append(time.perf_counter() - started)
            peak = peak_rss_kib()
            # Then whether the default limits take it (refused from the header, if not).
            app.config.update(
                IMAGE_MAX_PIXELS=Defaults.IMAGE_MAX_PIXELS,
                IMAGE_MAX_DECODE_BYTES=Defaults.IMAGE_MAX_DECODE_BYTES,
            )
            Image.MAX_IMAGE_PIXELS = Defaults.IMAGE_MAX_PIXELS
            try:
                prepare_image(data)
                verdict = "taken"
            except UploadError:
                verdict = "refused"
    return {
        "seconds": statistics.median(times),
        "peak_growth_mb": (peak - before) / 1024,
        "peak_rss_mb": peak / 1024,
        "stored_as": prepared.extension,
        "stored_kb": len(prepared.content) / 1024,
        "verdict": verdict,
    }


def main() -> None:
    """Print one line per kind and size: file size, time and peak memory of prepare_image."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="megapixels, comma-separated")
    parser.add_argument("--kinds", default=",".join(KINDS), help=", ".join(KINDS))
    parser.add_argument("--repeat", type=int, default=3, help="calls per process (median time)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(Path(args.child), args.repeat)))
        return

    sizes = [float(s) for s in args.sizes.split(",")]
    kinds = [k for k in args.kinds.split(",") if k]
    print(f"{'kind':<22} {'pixels':>11} {'MP':>5} {'file KB':>8} {'seconds':>8} "
          f"{'peak +MB':>9} {'peak RSS MB':>11}  default limits")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            for megapixels in sizes:
                size = dimensions(megapixels)
                path = Path(tmp) / f"{kind}-{megapixels}"
                path.write_bytes(make_image(kind, size))
                child = subprocess.run(
                    [sys.executable, __file__, "--child", str(path), "--repeat", str(args.repeat)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                result = json.loads(child.stdout.strip().splitlines()[-1])
                pixels = size[0] * size[1]
                print(
                    f"{kind:<22} {pixels:>11,} {pixels / 1e6:>5.1f} "
                    f"{path.stat().st_size / 1024:>8.0f} {result['seconds']:>8.2f} "
                    f"{result['peak_growth_mb']:>9.0f} {result['peak_rss_mb']:>11.0f}  "
                    f"{result['verdict']}",
                    flush=True,
                )
                path.unlink()


if __name__ == "__main__":
    main()
