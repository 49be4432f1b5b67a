"""Ray job entry point of on-demand migration planning (a drain, an evacuation or a given
target); the same as ``cluster-opt migrate``.

    ray job submit --working-dir . -- python jobs/plan_migration.py \
        --config configs/migration.yaml --snapshot /data/snap --out /data/runs/drain-r12
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the package beside jobs/

from cluster_opt.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["migrate", *sys.argv[1:]]))
