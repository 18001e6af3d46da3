"""Helper process for the kill tests: take a service's lease, say so, then wait to be killed.

Usage: python lease_holder.py HOSTS CLUSTER SECRET NODE SVC
"""

import sys
import time

from orchestrator.coordination import Coordinator


def main() -> None:
    hosts, cluster, secret, node, svc = sys.argv[1:6]
    coord = Coordinator(hosts, cluster, secret, 2.0, node)
    lease = coord.acquire_lease(svc)
    print(f"HELD {lease.epoch} {coord.session_id}", flush=True)
    while True:
        time.sleep(60)


if __name__ == "__main__":
    main()
