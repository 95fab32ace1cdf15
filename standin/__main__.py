"""Serve the stand-in site for the offline demo: python -m standin [--port 8000] [--blocked]"""

import argparse
import time

from standin.server import StandInSite


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--blocked", action="store_true", help="answer like a Cloudflare block")
    args = parser.parse_args()
    with StandInSite(port=args.port, blocked=args.blocked) as site:
        print(f"stand-in of www.elciudadano.com at {site.base_url}/ (Ctrl-C to stop)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
