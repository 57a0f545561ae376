import json
from typing import Any

from django.core.management.base import BaseCommand

from inventory_site.health import health_report


class Command(BaseCommand):
    help = (
        "Print the health report of /healthz as JSON; exit 0 when healthy, 1 when not "
        "(for cron or a monitoring agent)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = health_report()
        self.stdout.write(json.dumps(report, indent=2, ensure_ascii=False))
        if report["status"] != "ok":
            raise SystemExit(1)
