// msgpackr catches this and uses its pure-JS string decoder (see vendor/no-msgpackr-extract/package.json).
throw new Error('msgpackr-extract is intentionally not installed');
