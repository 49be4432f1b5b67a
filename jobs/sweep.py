"""Ray job entry point of a parameter sweep (Ray Tune); the same as ``cluster-opt sweep``.

    ray job submit --working-dir . -- python jobs/sweep.py \
        --config configs/sweep.yaml --snapshot /data/snap --out /data/runs/sweep
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the package beside jobs/

from cluster_opt.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["sweep", *sys.argv[1:]]))
