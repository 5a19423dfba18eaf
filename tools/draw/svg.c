/* tools/draw/svg.c - the SVG emitter of tapstack-draw (see svg.h). */
#include "tools/draw/svg.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 when it is
 * not one (a stray continuation byte, an overlong form, a surrogate, a cut
 * sequence). XML 1.0 also forbids U+FFFE and U+FFFF. */
static size_t svg_utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (n == 0 || c > 0xf4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (n == 3) {
        if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))
            return 0;
        if (c == 0xef && s[1] == 0xbf && s[2] >= 0xbe)
            return 0;
    }
    if (n == 4 && ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90)))
        return 0;
    return n;
}

void svg_esc(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    while (*s) {
        unsigned c = *s;
        switch (c) {
        case '&': fputs("&amp;", f); s++; continue;
        case '<': fputs("&lt;", f); s++; continue;
        case '>': fputs("&gt;", f); s++; continue;
        case '"': fputs("&quot;", f); s++; continue;
        case '\'': fputs("&#39;", f); s++; continue;
        default: break;
        }
        if (c < 0x20 || c == 0x7f) {
            fputc(c == '\t' || c == '\n' ? ' ' : '?', f);
            s++;
        } else if (c < 0x80) {
            fputc((int)c, f);
            s++;
        } else {
            size_t n = svg_utf8_len(s);
            if (n == 0) {
                fputc('?', f);
                s++;
            } else {
                fwrite(s, 1, n, f);
                s += n;
            }
        }
    }
}

/* Format, then escape: the format's own text is ours, the arguments may
 * come from a capture or a trace. */
static void svg_vesc(FILE *f, const char *fmt, va_list ap)
{
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    svg_esc(f, buf);
}

void svg_begin(struct svg *s, FILE *f, double w, double h, int standalone,
               const char *css)
{
    s->f = f;
    s->npts = 0;
    if (standalone)
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
            "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
            "font-family=\"DejaVu Sans Mono, monospace\" font-size=\"11\">\n",
            w, h, w, h);
    fputs("<defs><marker id=\"ah\" viewBox=\"0 0 10 10\" refX=\"10\" "
          "refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
          "orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\"/>"
          "</marker></defs>\n", f);
    if (css)
        fprintf(f, "<style>%s</style>\n", css);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" "
            "fill=\"white\"/>\n", w, h);
}

int svg_end(struct svg *s)
{
    fputs("</svg>\n", s->f);
    return ferror(s->f) ? -1 : 0;
}

static void svg_cls(FILE *f, const char *cls)
{
    if (cls && *cls) {
        fputs(" class=\"", f);
        svg_esc(f, cls);
        fputc('"', f);
    }
}

void svg_text(struct svg *s, double x, double y, const char *anchor,
              const char *cls, const char *fmt, ...)
{
    va_list ap;
    fprintf(s->f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"", x, y,
            anchor && strcmp(anchor, "middle") == 0 ? "middle"
            : anchor && strcmp(anchor, "end") == 0 ? "end" : "start");
    svg_cls(s->f, cls);
    fputc('>', s->f);
    va_start(ap, fmt);
    svg_vesc(s->f, fmt, ap);
    va_end(ap);
    fputs("</text>\n", s->f);
}

void svg_line(struct svg *s, double x1, double y1, double x2, double y2,
              const char *cls)
{
    fprintf(s->f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"",
            x1, y1, x2, y2);
    svg_cls(s->f, cls);
    fputs("/>\n", s->f);
}

void svg_rect(struct svg *s, double x, double y, double w, double h,
              const char *cls)
{
    fprintf(s->f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
            "height=\"%.1f\"", x, y, w < 0 ? 0 : w, h < 0 ? 0 : h);
    svg_cls(s->f, cls);
    fputs("/>\n", s->f);
}

void svg_poly_begin(struct svg *s)
{
    s->npts = 0;
}

void svg_poly_pt(struct svg *s, double x, double y)
{
    if (s->npts == 0)
        fputs("<polyline points=\"", s->f);
    fprintf(s->f, "%s%.1f,%.1f", s->npts % 8 == 7 ? "\n" : " ", x, y);
    s->npts++;
}

void svg_poly_end(struct svg *s, const char *cls)
{
    if (s->npts == 0)
        return;
    fputc('"', s->f);
    svg_cls(s->f, cls);
    fputs(" fill=\"none\"/>\n", s->f);
    s->npts = 0;
}

void svg_group(struct svg *s, const char *cls)
{
    fputs("<g", s->f);
    svg_cls(s->f, cls);
    fputs(">\n", s->f);
}

void svg_group_end(struct svg *s)
{
    fputs("</g>\n", s->f);
}

void svg_link(struct svg *s, const char *anchor)
{
    fputs("<a href=\"#", s->f);
    svg_esc(s->f, anchor);
    fputs("\">\n", s->f);
}

void svg_link_end(struct svg *s)
{
    fputs("</a>\n", s->f);
}

void svg_title(struct svg *s, const char *fmt, ...)
{
    va_list ap;
    fputs("<title>", s->f);
    va_start(ap, fmt);
    svg_vesc(s->f, fmt, ap);
    va_end(ap);
    fputs("</title>\n", s->f);
}
