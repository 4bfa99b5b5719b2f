/* Unit tests of the rx backlog estimate (sl_backlog_*), on a simulated
 * queue: packets arrive at a set rate, a worker takes bursts of up to 32,
 * each poll costing a fixed time plus a time per packet, sometimes
 * stalling. Checked against the queue's true length: a worker draining a
 * small backlog near its capacity is not behind (the rule this replaced
 * said it was), a stall that leaves a mark's worth waiting is behind at
 * once, and a surge past the measured rate, a worker slowed just as
 * arrivals rose, or a queue that was never empty is caught before the
 * ring would overflow. Each rule of sl_backlog_behind fails a test when it
 * is taken out. Time unit: 1 ns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sluice/backlog.h"

#define BURST 32
#define MARK 768            /* 3/4 of a 1024-descriptor ring */
#define RING 1024
#define WINDOW 1000000      /* 1 ms */
#define PER_POLL 200.0      /* ns */
#define PER_PKT 300.0       /* ns: a full burst takes 9800 ns */

/* packets per ns the worker takes in full bursts */
static const double MU = BURST / (PER_POLL + BURST * PER_PKT);

struct sim {
	struct sl_backlog b;
	double t;               /* now */
	double lambda;          /* arrivals per ns */
	double per_pkt;         /* the worker's time per packet */
	double arrived;         /* since the start (fractional) */
	uint64_t taken;
	uint64_t waiting;       /* true queue length after the last receive */
	uint64_t max_waiting;
	uint64_t behind_polls, polls;
	uint64_t overflow;      /* arrivals the ring could not take */
	/* the last poll */
	uint32_t n;
	int behind;
	int why;            /* enum sl_behind_why of the last poll */
};

static void sim_init(struct sim *s, double rho)
{
	memset(s, 0, sizeof(*s));
	s->t = 1000;
	s->lambda = rho * MU;
	s->per_pkt = PER_PKT;
}

/* Time passes with the worker away (a stall, or a poll's own work). */
static void elapse(struct sim *s, double dt)
{
	double room;

	s->arrived += s->lambda * dt;
	s->t += dt;
	room = (double)(s->taken + RING) - s->arrived;
	if (room < 0) {
		/* the ring is full: what does not fit is lost */
		s->overflow += (uint64_t)-room;
		s->arrived += room;
	}
}

static void poll_once(struct sim *s)
{
	uint64_t q = (uint64_t)s->arrived - s->taken;

	s->n = q < BURST ? (uint32_t)q : BURST;
	s->taken += s->n;
	s->waiting = q - s->n;
	if (s->waiting > s->max_waiting)
		s->max_waiting = s->waiting;
	s->why = sl_backlog_behind(&s->b, (uint64_t)s->t, s->n, BURST, MARK, WINDOW);
	s->behind = s->why != SL_BEHIND_NO;
	s->polls++;
	s->behind_polls += s->behind;
	elapse(s, PER_POLL + s->per_pkt * s->n);
}

static void run_for(struct sim *s, double ns)
{
	double end = s->t + ns;

	while (s->t < end)
		poll_once(s);
}

/* Poll until the worker counts itself behind, at most max polls: did it? */
static bool poll_until_behind(struct sim *s, int max)
{
	for (int i = 0; i < max; i++) {
		poll_once(s);
		if (s->behind)
			return true;
	}
	return false;
}

/* 20 ms at load rho: the rate is known, nothing waits */
static void learned(struct sim *s, double rho)
{
	sim_init(s, rho);
	run_for(s, 20e6);
}

/* Steady load below capacity: never behind; the rate is learned. */
static void test_steady(void **state)
{
	static struct sim s;

	(void)state;
	sim_init(&s, 0.5);
	run_for(&s, 50e6);
	assert_int_equal(s.behind_polls, 0);
	assert_true(s.b.rate > 0.95 * s.lambda && s.b.rate < 1.05 * s.lambda);
	assert_true(sl_backlog_waiting(&s.b, (uint64_t)s.t) == 0);
}

/* Near capacity (75%), a stall leaves 40% of the mark waiting. Draining
 * it takes 1.6 marks of full bursts in a row: the old rule (a mark's worth
 * in a row) shed; the estimate knows the queue is short and draining. */
static void test_small_backlog_near_capacity(void **state)
{
	static struct sim s;
	uint64_t streak_max = 0;

	(void)state;
	learned(&s, 0.75);
	elapse(&s, 0.4 * MARK / s.lambda);
	for (int i = 0; i < 100000; i++) {
		poll_once(&s);
		if (s.b.streak > streak_max)
			streak_max = s.b.streak;
	}
	assert_true(s.max_waiting >= 0.3 * MARK && s.max_waiting < 0.5 * MARK);
	assert_true(streak_max >= MARK);   /* the old rule would have shed */
	assert_int_equal(s.behind_polls, 0);
}

/* 30% load, a stall that leaves 1.2 marks waiting: behind at the first
 * burst after it, and no longer once the queue is well below the mark
 * (draining it takes 1.7 marks in a row, under the 2-mark rule). */
static void test_stall(void **state)
{
	static struct sim s;
	int first = 1;

	(void)state;
	learned(&s, 0.3);
	assert_int_equal(s.behind_polls, 0);
	elapse(&s, 1.2 * MARK / s.lambda);
	for (int i = 0; i < 100000; i++) {
		poll_once(&s);
		if (first) {
			assert_true(s.waiting > MARK);
			assert_int_equal(s.why, SL_BEHIND_DEPTH);
			first = 0;
		}
		if (s.waiting > 1.05 * MARK)
			assert_true(s.behind);
		if (s.waiting < 0.95 * MARK)
			assert_false(s.behind);
	}
	assert_int_equal(s.overflow, 0);
}

/* The load jumps from 50% to 150% of capacity: the rate measured before
 * is too low, but the full bursts soon bring a mark more than it accounts
 * for; behind before the ring overflows, and from then on. */
static void test_surge(void **state)
{
	static struct sim s;
	int on = 0;

	(void)state;
	learned(&s, 0.5);
	s.lambda = 1.5 * MU;
	for (int i = 0; i < 2000 && s.overflow == 0; i++) {
		poll_once(&s);
		if (s.behind && !on)
			assert_int_equal(s.why, SL_BEHIND_SURGE);
		if (s.behind)
			on = 1;
		if (on)
			assert_true(s.behind);   /* stays behind while it lasts */
	}
	assert_true(on);
}

/* A queue full from the start (no rate yet): behind once a mark's worth
 * came in full bursts in a row, the second of them here (mark 48). */
static void test_never_empty(void **state)
{
	struct sl_backlog b;

	(void)state;
	memset(&b, 0, sizeof(b));
	assert_int_equal(sl_backlog_behind(&b, 100, BURST, BURST, 48, WINDOW), SL_BEHIND_NO);
	/* no rate: all of it is more than the rate accounts for */
	assert_int_equal(sl_backlog_behind(&b, 200, BURST, BURST, 48, WINDOW), SL_BEHIND_SURGE);
	assert_true(sl_backlog_behind(&b, 300, BURST, BURST, 48, WINDOW));
	/* a short receive: the queue was empty */
	assert_false(sl_backlog_behind(&b, 400, 5, BURST, 48, WINDOW));
	assert_true(sl_backlog_waiting(&b, 500) == 0);
	/* mark 0: off */
	assert_false(sl_backlog_behind(&b, 600, BURST, BURST, 0, WINDOW));
}

/* A long run of full bursts the rate explains (80% load, a backlog of
 * half the mark to drain: 2.5 marks in a row): behind once twice the
 * mark came in a row, whatever the estimate. */
static void test_twice_mark(void **state)
{
	static struct sim s;

	(void)state;
	learned(&s, 0.8);
	elapse(&s, 0.5 * MARK / s.lambda);
	assert_true(poll_until_behind(&s, 100000));
	assert_int_equal(s.why, SL_BEHIND_LONG);
	assert_true(s.b.streak >= 2 * MARK && s.b.streak < 2 * MARK + BURST);
}

/* The rate was learned at 50% load; then the worker slows to half its
 * speed just as arrivals rise to 90% of its old speed. It takes packets
 * about as fast as the old rate says they come, so the estimate sees
 * neither a backlog nor a surplus, while the queue grows. Not draining by
 * the estimate: behind after a mark's worth in a row, before the ring
 * overflows (the 2-mark rule alone would be too late). */
static void test_slowed_and_surge(void **state)
{
	static struct sim s;

	(void)state;
	learned(&s, 0.5);
	s.per_pkt = 2 * PER_PKT;
	s.lambda = 0.9 * MU;
	assert_true(poll_until_behind(&s, 5000));
	assert_int_equal(s.why, SL_BEHIND_NOT_DRAINING);
	assert_int_equal(s.overflow, 0);
	assert_true(s.waiting < RING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steady),
		cmocka_unit_test(test_small_backlog_near_capacity),
		cmocka_unit_test(test_stall),
		cmocka_unit_test(test_surge),
		cmocka_unit_test(test_never_empty),
		cmocka_unit_test(test_twice_mark),
		cmocka_unit_test(test_slowed_and_surge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
