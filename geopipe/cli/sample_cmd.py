"""``geopipe sample generate --out DIR``: write the generated sample archive in the real formats."""

from __future__ import annotations

from geopipe.cli.common import emit
from geopipe.errors import GeopipeError


def register(sub) -> None:
    p = sub.add_parser("sample", help="write a sample archive (GFS, GOES, IBTrACS, ISGI) in the real formats")
    ssub = p.add_subparsers(dest="sample_command", metavar="ACTION", required=True)
    g = ssub.add_parser("generate", help="generate a seeded archive with planted cyclones and its MANIFEST.json")
    g.add_argument("--out", required=True, help="folder to write (empty, new, or an earlier generated archive)")
    g.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives byte-identical files")
    g.add_argument("--days", type=int, default=20, help="days of 6-hourly GFS cycles (default 20)")
    g.add_argument("--res", type=float, default=1.0, help="GFS grid spacing in degrees, dividing 180 (default 1.0)")
    g.add_argument("--start", default="2024-09-01", help="first day, 00 UTC (default 2024-09-01)")
    g.add_argument("--tropical", type=int, default=10, help="tropical cyclones to plant (default 10)")
    g.add_argument("--extratropical", type=int, default=10, help="extratropical cyclones to plant (default 10)")
    g.add_argument("--goes-times", type=int, default=4, help="hourly GOES CONUS scans from --start (default 4)")
    g.add_argument("--fhours", default="0", help="comma-separated GFS forecast hours per cycle (default 0)")
    g.add_argument("--json", action="store_true", help="print the manifest as JSON")
    g.set_defaults(func=cmd_generate)


def cmd_generate(args) -> int:
    from geopipe.sample.generate import generate

    try:
        fhours = [int(f) for f in args.fhours.split(",") if f.strip()]
    except ValueError:
        raise GeopipeError(f"--fhours must be comma-separated whole hours, not {args.fhours!r}") from None
    manifest = generate(args.out, seed=args.seed, days=args.days, res=args.res, start=args.start,
                        n_tropical=args.tropical, n_extratropical=args.extratropical,
                        goes_times=args.goes_times, fhours=fhours)
    kinds: dict[str, int] = {}
    for entry in manifest["files"]:
        kinds[entry["kind"]] = kinds.get(entry["kind"], 0) + 1
    classes = [s["class"] for s in manifest["storms"]]
    text = (f"{args.out}: {len(manifest['files'])} files ({', '.join(f'{n} {k}' for k, n in kinds.items())}); "
            f"{classes.count('tropical')} tropical and {classes.count('extratropical')} extratropical cyclones "
            f"planted (seed {manifest['seed']}); truth in MANIFEST.json")
    emit(manifest, as_json=args.json, text=text)
    return 0
