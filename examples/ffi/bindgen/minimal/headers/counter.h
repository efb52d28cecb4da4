#ifndef COUNTER_H
#define COUNTER_H

int counter_next(void);
void counter_reset(int value);

#endif
