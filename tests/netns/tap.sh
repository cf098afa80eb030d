# TAP for scripts that report in their own words (and through python):
# `exec > >(tap_number)` numbers their "ok ..." lines, turns "FAIL..." into
# "not ok N - ...", an early "SKIP: ..." into "1..0 # SKIP ...", prints
# everything else as "# ..." diagnostics, and the plan (1..N) at the end.
tap_number() {
	awk '
	/^ok( -)? / { sub(/^ok( -)? /, ""); print "ok " ++n " - " $0; fflush(); next }
	/^FAIL:? ?/ { sub(/^FAIL:? ?/, ""); print "not ok " ++n " - " $0; fflush(); next }
	/^SKIP: / && n == 0 { sub(/^SKIP: /, ""); print "1..0 # SKIP " $0; skipped = 1; next }
	{ print "# " $0; fflush() }
	END { if (!skipped) print "1.." n }'
}
