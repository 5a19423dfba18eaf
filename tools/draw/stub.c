#include "tools/draw/tseq.h"
#include "tools/draw/dhtml.h"
int tseq_pick_dir(const struct dconn *c) { (void)c; return 0; }
int tseq_draw(FILE *f, const struct dcap *cap, const struct dconn *c, int dir, const struct dtrace *t, int s) { (void)f;(void)cap;(void)c;(void)dir;(void)t;(void)s; return 0; }
int dhtml_write(FILE *f, const char *title, const struct dcap *cap, struct dconns *cs, const struct dtrace *t, const struct ladder_opts *lo) {(void)f;(void)title;(void)cap;(void)cs;(void)t;(void)lo;return 0;}
