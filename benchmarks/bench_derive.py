"""Time deriving and verifying the five built-in rules; print a JSON table.

Target (issue 2): all five rules derived and verified — conservation for
n = 1..6 and arbitrary n, the other claims for arbitrary n — in under 10 s,
first call included (fresh process, empty caches); a repeated call is served
from the cache in under 10 ms.
"""
import json
import time

START = time.perf_counter()
import sympy  # noqa: E402

import symdtd  # noqa: E402  (the import is part of the first call's cost)
from symdtd import derive, verify  # noqa: E402

RULES = ["w2", "z+", "zB", "z", "gamma"]


def main():
    rows = []
    for name in RULES:
        t0 = time.perf_counter()
        derivation = derive(name)
        t1 = time.perf_counter()
        report = verify(derivation)
        t2 = time.perf_counter()
        verify(derive(name))
        t3 = time.perf_counter()
        rows.append({"rule": name, "derive_s": round(t1 - t0, 3), "verify_s": round(t2 - t1, 3),
                     "repeat_ms": round((t3 - t2) * 1e3, 3),
                     "verdicts": {c.name: c.verdict for c in report.claims}})
    total = time.perf_counter() - START
    result = {"rules": rows, "total_first_call_s": round(total, 2),
              "target_total_s": 10, "within_target": total < 10 and
              all(r["repeat_ms"] < 10 for r in rows), "symdtd": symdtd.__version__, "sympy": sympy.__version__}
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
