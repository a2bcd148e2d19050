/* A fake clock for unit tests (clock_fake.h). */
#include "mocks/clock_fake.h"

static uint64_t fake_mono_ms(void *data)
{
	return ((struct clock_fake *)data)->mono_ms;
}

static int64_t fake_wall_ms(void *data)
{
	return ((struct clock_fake *)data)->wall_ms;
}

void clock_fake_init(struct clock_fake *c, uint64_t mono_ms, int64_t wall_ms)
{
	c->clock.data = c;
	c->clock.mono_ms = fake_mono_ms;
	c->clock.wall_ms = fake_wall_ms;
	c->mono_ms = mono_ms;
	c->wall_ms = wall_ms;
}

void clock_fake_advance(struct clock_fake *c, uint64_t ms)
{
	c->mono_ms += ms;
	c->wall_ms += (int64_t)ms;
}
