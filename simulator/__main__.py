"""``python -m simulator run|compare|sweep|list|calibration ...`` and ``python -m simulator data ...``.

The same commands as ``citymatch sim ...`` and ``citymatch data ...``, for a checkout without the CLI installed.
"""

from __future__ import annotations

import sys

from simulator.cli import data_main, sim_main


def main(argv: list[str]) -> int:
    if argv[:1] == ["data"]:
        return data_main(argv[1:])
    return sim_main(argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
