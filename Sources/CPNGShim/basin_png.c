#include "basin_png.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char *buffer;
    size_t capacity;
} error_sink;

static void set_error(char *error, size_t capacity, const char *message) {
    if (error == NULL || capacity == 0) return;
    snprintf(error, capacity, "%s", message);
}

static void on_png_error(png_structp png, png_const_charp message) {
    error_sink *sink = (error_sink *)png_get_error_ptr(png);
    if (sink != NULL) set_error(sink->buffer, sink->capacity, message);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;  // warnings (e.g. unknown chunks) do not make a file unusable
}

int basin_png_write(const char *path, int width, int height, int channels, double dpi,
                    const unsigned char *pixels, int text_count,
                    const char *const *text_keys, const char *const *text_values,
                    char *error, size_t error_capacity) {
    if (width <= 0 || height <= 0 || (channels != 3 && channels != 4)) {
        set_error(error, error_capacity, "invalid image dimensions or channel count");
        return 1;
    }
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        set_error(error, error_capacity, strerror(errno));
        return 1;
    }
    error_sink sink = {error, error_capacity};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, on_png_error, on_png_warning);
    if (png == NULL) {
        fclose(file);
        set_error(error, error_capacity, "cannot allocate libpng write state");
        return 1;
    }
    png_infop info = png_create_info_struct(png);
    png_textp volatile texts = NULL;
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        fclose(file);
        set_error(error, error_capacity, "cannot allocate libpng info");
        return 1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(texts);
        fclose(file);
        return 1;
    }
    png_init_io(png, file);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (dpi > 0) {
        png_uint_32 per_metre = (png_uint_32)(dpi / 0.0254 + 0.5);
        png_set_pHYs(png, info, per_metre, per_metre, PNG_RESOLUTION_METER);
    }
    if (text_count > 0) {
        texts = calloc((size_t)text_count, sizeof(png_text));
        if (texts == NULL) png_error(png, "cannot allocate text chunks");
        for (int i = 0; i < text_count; i++) {
            // tEXt is Latin-1; UTF-8 values (e.g. a command line with "θ") go into iTXt, which is UTF-8.
            int is_ascii = 1;
            for (const unsigned char *c = (const unsigned char *)text_values[i]; *c != 0; c++) {
                if (*c >= 0x80) { is_ascii = 0; break; }
            }
            texts[i].compression = is_ascii ? PNG_TEXT_COMPRESSION_NONE : PNG_ITXT_COMPRESSION_NONE;
            texts[i].key = (png_charp)text_keys[i];
            texts[i].text = (png_charp)text_values[i];
            texts[i].text_length = is_ascii ? strlen(text_values[i]) : 0;
            texts[i].itxt_length = is_ascii ? 0 : strlen(text_values[i]);
        }
        png_set_text(png, info, texts, text_count);
    }
    png_write_info(png, info);
    size_t stride = (size_t)width * (size_t)channels;
    for (int row = 0; row < height; row++) {
        png_write_row(png, (png_const_bytep)(pixels + stride * (size_t)row));
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(texts);
    if (fflush(file) != 0 || fsync(fileno(file)) != 0) {
        set_error(error, error_capacity, strerror(errno));
        fclose(file);
        return 1;
    }
    if (fclose(file) != 0) {
        set_error(error, error_capacity, strerror(errno));
        return 1;
    }
    return 0;
}

int basin_png_read(const char *path, basin_png_image *image, char *error, size_t error_capacity) {
    memset(image, 0, sizeof(*image));
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        set_error(error, error_capacity, strerror(errno));
        return 1;
    }
    unsigned char signature[8];
    if (fread(signature, 1, 8, file) != 8 || png_sig_cmp(signature, 0, 8) != 0) {
        fclose(file);
        set_error(error, error_capacity, "not a PNG file (bad signature)");
        return 1;
    }
    error_sink sink = {error, error_capacity};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &sink, on_png_error, on_png_warning);
    if (png == NULL) {
        fclose(file);
        set_error(error, error_capacity, "cannot allocate libpng read state");
        return 1;
    }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        fclose(file);
        set_error(error, error_capacity, "cannot allocate libpng info");
        return 1;
    }
    unsigned char *volatile rgba = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(rgba);
        free(rows);
        basin_png_image_free(image);
        fclose(file);
        return 1;
    }
    png_init_io(png, file);
    png_set_sig_bytes(png, 8);
    png_read_info(png, info);
    png_uint_32 width = png_get_image_width(png, info);
    png_uint_32 height = png_get_image_height(png, info);
    int color_type = png_get_color_type(png, info);
    // Normalize every PNG flavour to 8-bit RGBA so callers handle one layout.
    png_set_expand(png);
    png_set_strip_16(png);
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_set_add_alpha(png, 0xff, PNG_FILLER_AFTER);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)width * 4) png_error(png, "unexpected row layout after conversion");
    rgba = malloc((size_t)width * (size_t)height * 4);
    rows = malloc(sizeof(png_bytep) * (size_t)height);
    if (rgba == NULL || rows == NULL) png_error(png, "image too large to allocate");
    for (png_uint_32 row = 0; row < height; row++) rows[row] = rgba + (size_t)row * (size_t)width * 4;
    png_read_image(png, rows);
    png_read_end(png, info);

    png_textp texts = NULL;
    int text_count = 0;
    png_get_text(png, info, &texts, &text_count);
    if (text_count > 0) {
        image->text_keys = calloc((size_t)text_count, sizeof(char *));
        image->text_values = calloc((size_t)text_count, sizeof(char *));
        if (image->text_keys == NULL || image->text_values == NULL) png_error(png, "cannot allocate text chunks");
        image->text_count = text_count;
        for (int i = 0; i < text_count; i++) {
            image->text_keys[i] = strdup(texts[i].key);
            image->text_values[i] = strdup(texts[i].text != NULL ? texts[i].text : "");
        }
    }
    png_uint_32 res_x = 0, res_y = 0;
    int unit = 0;
    if (png_get_pHYs(png, info, &res_x, &res_y, &unit) != 0 && unit == PNG_RESOLUTION_METER) {
        image->dpi = (double)res_x * 0.0254;
    }
    image->width = (int)width;
    image->height = (int)height;
    image->rgba = rgba;
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(file);
    return 0;
}

void basin_png_image_free(basin_png_image *image) {
    if (image == NULL) return;
    for (int i = 0; i < image->text_count; i++) {
        if (image->text_keys != NULL) free(image->text_keys[i]);
        if (image->text_values != NULL) free(image->text_values[i]);
    }
    free(image->text_keys);
    free(image->text_values);
    free(image->rgba);
    memset(image, 0, sizeof(*image));
}
