"""Import speed of every shared benchmark file: records/s per importer, median of repeats.

    python benchmarks/importers.py [--repeats 5]

Records are tool definitions plus tasks read from the original files. The total is the sum of the medians;
the target is under 10 s for all four datasets together.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from raytool.paths import shared_data_dir
from raytool.tables import format_table
from raytool.tools.importers import import_dataset
from raytool.tools.shared import SHARED_SOURCES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data = shared_data_dir()
    rows, total = [], 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for name, source in SHARED_SOURCES.items():
            times, save_times = [], []
            for _ in range(args.repeats):
                start = time.perf_counter()
                ds = import_dataset(source.format, data / source.src)
                times.append(time.perf_counter() - start)
                start = time.perf_counter()
                ds.save(Path(tmp) / name)
                save_times.append(time.perf_counter() - start)
            records = len(ds.tools) + len(ds.tasks)
            med = statistics.median(times)
            total += med
            rows.append([name, source.format, records, med * 1000, records / med, statistics.median(save_times) * 1000])
    print(format_table(["dataset", "format", "records", "import ms (median)", "records/s", "save ms"], rows))
    print(
        f"\nall {len(rows)} files ({len({s.format for s in SHARED_SOURCES.values()})} formats): "
        f"{total:.2f} s in total (target < 10 s), median of {args.repeats} repeats"
    )


if __name__ == "__main__":
    main()
