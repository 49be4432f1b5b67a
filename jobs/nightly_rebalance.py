"""Ray job entry point of the nightly rebalance; the same as ``cluster-opt nightly``.

    ray job submit --working-dir . -- python jobs/nightly_rebalance.py \
        --config configs/nightly.yaml --snapshot /data/snap --out /data/runs/tonight

On a cluster give --out an absolute path: the job's working directory is temporary.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the package beside jobs/

from cluster_opt.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["nightly", *sys.argv[1:]]))
