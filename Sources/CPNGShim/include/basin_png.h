// libpng reports errors by longjmp; Swift frames must never be jumped over, so every libpng
// call happens here, under a setjmp, and failures come back as a return code and a message.
#ifndef BASIN_PNG_H
#define BASIN_PNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int width;
    int height;
    // width*height*4 bytes, straight (not premultiplied) RGBA, rows top to bottom.
    unsigned char *rgba;
    int text_count;
    char **text_keys;
    char **text_values;
    // Dots per inch from the pHYs chunk; 0 when the file has none.
    double dpi;
} basin_png_image;

// Writes an 8-bit PNG (channels 3 = RGB, 4 = RGBA) with tEXt chunks to `path`, flushes and
// fsyncs it. A positive `dpi` is recorded as a pHYs chunk (pixels per metre), so viewers and
// LaTeX know the figure's physical size. Returns 0 on success; otherwise writes a one-line
// reason into `error`.
int basin_png_write(const char *path, int width, int height, int channels, double dpi,
                    const unsigned char *pixels, int text_count,
                    const char *const *text_keys, const char *const *text_values,
                    char *error, size_t error_capacity);

// Reads any PNG libpng understands, converted to 8-bit RGBA. Returns 0 on success; the
// caller releases the image with basin_png_image_free.
int basin_png_read(const char *path, basin_png_image *image, char *error, size_t error_capacity);

void basin_png_image_free(basin_png_image *image);

#endif
