# The two commands of the README. Each script says what it does; both can run on a fresh machine.
.PHONY: up down test bench-gateway bench-cache differential

## Install what is missing, start PostgreSQL and Redis, build, migrate and start the local stack.
up:
	@scripts/up.sh

## Stop the subgraphs and the gateway `make up` started.
down:
	@scripts/down.sh

## The same set-up, then formatting, lints, the T-SQL parse check and every test.
test:
	@scripts/test.sh

## Our gateway and Hive Router side by side on the local stack (prints a table; not part of test).
bench-gateway:
	@scripts/bench-gateway.sh

## The Redis response cache: cached against uncached on the local stack (prints a table; not part of test).
bench-cache:
	@scripts/bench-cache.sh

## Our gateway against Hive Router on thousands of generated operations (not part of test).
differential:
	@scripts/differential.sh
