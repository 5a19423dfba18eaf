/* tools/draw/svg.h - the one place tapstack-draw writes SVG (and HTML) text.
 *
 * Every string that reaches the output goes through svg_esc(), which makes
 * it safe as XML character data and as a quoted attribute value: & < > " '
 * become entities, control characters and bytes that are not well-formed
 * UTF-8 become '?'. So a hostile capture or trace cannot break the markup.
 * Coordinates are printed with one decimal. Write errors are remembered in
 * s->err (checked once at the end by the caller through svg_end).
 * Entry points: svg_esc, svg_begin, svg_end, svg_text, svg_line, svg_rect,
 * svg_poly_begin, svg_poly_pt, svg_poly_end, svg_group, svg_group_end,
 * svg_link, svg_link_end, svg_title.
 */
#ifndef TS_TOOLS_DRAW_SVG_H
#define TS_TOOLS_DRAW_SVG_H

#include <stdio.h>

struct svg {
    FILE *f;
    int npts;                   /* points written in the open polyline */
};

/* Write s escaped for XML text and attribute values. */
void svg_esc(FILE *f, const char *s);

/* Open an <svg> of w x h pixels. standalone: start with the XML
 * declaration (a .svg file); 0 for an SVG inlined in HTML. css: a style
 * sheet for the classes the drawing uses (trusted, written as is). */
void svg_begin(struct svg *s, FILE *f, double w, double h, int standalone,
               const char *css);
/* Close the <svg>; 0, or -1 when a write failed. */
int svg_end(struct svg *s);

/* Text at (x, y); anchor "start", "middle" or "end"; cls may be NULL. The
 * text is formatted with printf rules, then escaped. */
void svg_text(struct svg *s, double x, double y, const char *anchor,
              const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void svg_line(struct svg *s, double x1, double y1, double x2, double y2,
              const char *cls);
void svg_rect(struct svg *s, double x, double y, double w, double h,
              const char *cls);
/* A polyline: begin, any number of points, end (nothing is written for
 * fewer than two points). */
void svg_poly_begin(struct svg *s);
void svg_poly_pt(struct svg *s, double x, double y);
void svg_poly_end(struct svg *s, const char *cls);
/* <g class="cls"> ... </g> */
void svg_group(struct svg *s, const char *cls);
void svg_group_end(struct svg *s);
/* <a href="#anchor"> ... </a>: anchor is escaped. */
void svg_link(struct svg *s, const char *anchor);
void svg_link_end(struct svg *s);
/* A <title> (tooltip) for the enclosing element. */
void svg_title(struct svg *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
