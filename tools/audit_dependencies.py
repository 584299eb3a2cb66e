"""`make lint`'s dependency audit: pip-audit over the installed packages, readable offline.

pip-audit asks a vulnerability service (PyPI's JSON API) about every installed package. A known
vulnerability fails the lint; a service that cannot be reached, or that knows none of the
packages, is printed as such and passes, so that lint still works without the network. pip-audit
itself would print "No known vulnerabilities found" even when it audited nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PIP_AUDIT = Path(sys.executable).with_name("pip-audit")
TIMEOUT_SECONDS = 300


def main() -> int:
    """Run pip-audit; 1 when a package has a known vulnerability, else 0."""
    command = [str(PIP_AUDIT), "--skip-editable", "--progress-spinner", "off", "--format", "json"]
    try:
        run = subprocess.run(  # noqa: S603 - our own venv's pip-audit, fixed arguments
            command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        print(f"pip-audit: no answer within {TIMEOUT_SECONDS} s; nothing audited (not a failure)")
        return 0
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        reason = (run.stderr.strip().splitlines() or ["no output"])[-1]
        print(
            f"pip-audit: the vulnerability service could not be reached; nothing audited "
            f"(not a failure): {reason}"
        )
        return 0

    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if "skip_reason" in d]
    audited = len(dependencies) - len(skipped)
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            print(
                f"pip-audit: {dependency['name']} {dependency['version']}: {vuln['id']} "
                f"(fixed in {fixed})"
            )
    if vulnerable:
        return 1
    if audited == 0 and skipped:
        print(
            f"pip-audit: the vulnerability service knew none of the {len(skipped)} packages "
            f"(unreachable from here?); nothing audited (not a failure)"
        )
    else:
        note = f"; {len(skipped)} not audited" if skipped else ""
        print(f"pip-audit: {audited} packages audited, no known vulnerabilities{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
