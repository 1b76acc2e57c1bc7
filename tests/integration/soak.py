#!/usr/bin/env python3
"""soak.py -- the load of soak.sh: clients through the view, changes on a drive directly.

    soak.py VIEW_IMAGES_DIR DRIVE_C_IMAGES_DIR SECONDS CLIENTS

Each client works in its own folder of the view: writes a temporary, renames it over its final
name, reads it back (content checked), lists the folder, changes a mode, removes old files.
An "outside" worker creates and removes files on drive C directly and checks the view sees
them. Every error is counted with its operation and errno; the totals go to stdout as JSON.
Bounded by SECONDS. Standard library only.
"""
import errno
import json
import multiprocessing as mp
import os
import sys
import time


def client(view, n, secs, out):
    d = os.path.join(view, f"soak{n:02d}")
    os.makedirs(d, exist_ok=True)
    ops, errs, i = 0, {}, 0
    end = time.monotonic() + secs
    while time.monotonic() < end:
        i += 1
        tmp, final = os.path.join(d, f".t{i}"), os.path.join(d, f"f{i % 50}.wim")
        data = (f"{n}:{i}:" * 200).encode()
        step = "write"
        try:
            with open(tmp, "wb") as f:
                f.write(data)
            step = "rename"
            os.rename(tmp, final)
            step = "read"
            with open(final, "rb") as f:
                if f.read() != data:
                    errs["read: wrong bytes"] = errs.get("read: wrong bytes", 0) + 1
            step = "chmod"
            os.chmod(final, 0o644 if i % 2 else 0o664)
            step = "list"
            if os.path.basename(final) not in os.listdir(d):
                errs["list: renamed name missing"] = errs.get("list: renamed name missing", 0) + 1
            if i % 7 == 0:
                step = "unlink"
                os.unlink(os.path.join(d, f"f{(i + 25) % 50}.wim"))
            ops += 1
        except OSError as e:
            if step == "unlink" and e.errno == errno.ENOENT:
                ops += 1
                continue
            k = f"{step}: {errno.errorcode.get(e.errno, e.errno)}"
            errs[k] = errs.get(k, 0) + 1
    out.put(("client", ops, errs))


def outside(view, drive, secs, out):
    d_drive, d_view = os.path.join(drive, "outside"), os.path.join(view, "outside")
    os.makedirs(d_drive, exist_ok=True)
    ops, errs, i = 0, {}, 0
    end = time.monotonic() + secs
    while time.monotonic() < end:
        i += 1
        name = f"o{i % 20}.txt"
        with open(os.path.join(d_drive, name), "w") as f:
            f.write(str(i))
        seen = False
        for _ in range(150):  # 3 s
            try:
                with open(os.path.join(d_view, name)) as f:
                    if f.read() == str(i):
                        seen = True
                        break
            except OSError:
                pass
            time.sleep(0.02)
        if not seen:
            errs["outside: change not seen in 3 s"] = errs.get("outside: change not seen in 3 s", 0) + 1
        if i % 3 == 0:
            os.unlink(os.path.join(d_drive, name))
        ops += 1
    out.put(("outside", ops, errs))


def main():
    view, drive, secs, clients = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    q = mp.Queue()
    procs = [mp.Process(target=client, args=(view, n, secs, q)) for n in range(clients)]
    procs.append(mp.Process(target=outside, args=(view, drive, secs, q)))
    for p in procs:
        p.start()
    total = {"ops": 0, "outside_ops": 0, "errors": {}}
    for _ in procs:
        kind, ops, errs = q.get(timeout=secs + 120)
        total["outside_ops" if kind == "outside" else "ops"] += ops
        for k, v in errs.items():
            total["errors"][k] = total["errors"].get(k, 0) + v
    for p in procs:
        p.join(30)
    print(json.dumps(total))


if __name__ == "__main__":
    main()
