/* The native side of `npm run bench` (analysis): the same statistics pass as ours (min, max, sum,
 * zeros; then a 256-bin histogram binned as numpy does, squared deviations, near-zeros) in plain
 * C, compiled with gcc -O3 -march=native when gcc is present. It shows what this CPU allows for
 * the per-weight work, next to our WebAssembly and to numpy.
 *
 *     stats_native FILE.f32 TENSOR_SIZES...   (the tensors' values back to back)
 * prints the median and the best seconds of 5 runs.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { BINS = 256 };

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static double sink;

static void stats(const float *x, long n) {
  float lo = INFINITY, hi = -INFINITY;
  double sum = 0;
  long zeros = 0;
  for (long i = 0; i < n; i++) {
    float v = x[i];
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
    sum += v;
    zeros += v == 0;
  }
  double mean = sum / n, step = ((double)hi - lo) / BINS;
  float edges[BINS + 1];
  for (int k = 0; k < BINS; k++) edges[k] = (float)(k * step + lo);
  edges[BINS] = hi;
  double scale = BINS / ((double)edges[BINS] - edges[0]);
  uint32_t counts[BINS] = {0};
  double dev = 0;
  long near = 0;
  float nearLimit = 1e-3f * fmaxf(fabsf(lo), fabsf(hi));
  for (long i = 0; i < n; i++) {
    float v = x[i];
    int k = (int)((v - (double)edges[0]) * scale);
    if (k > BINS - 1) k = BINS - 1;
    k -= v < edges[k];
    k += (k < BINS - 1) & (v >= edges[k + 1]);
    counts[k]++;
    double d = v - mean;
    dev += d * d;
    near += fabsf(v) <= nearLimit;
  }
  sink += dev + near + zeros + counts[BINS / 2];
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 1;
  fseek(f, 0, SEEK_END);
  long total = ftell(f) / 4;
  fseek(f, 0, SEEK_SET);
  float *values = malloc(total * 4);
  if (fread(values, 4, total, f) != (size_t)total) return 1;
  double runs[6];
  for (int r = 0; r < 6; r++) {
    double t0 = now();
    long at = 0;
    for (int a = 2; a < argc; a++) {
      long n = atol(argv[a]);
      stats(values + at, n);
      at += n;
    }
    runs[r] = now() - t0;
  }
  qsort(runs + 1, 5, sizeof(double), compare); /* the first run warms the caches */
  printf("%.9f %.9f %g\n", runs[3], runs[1], sink > 0 ? 0.0 : 1.0); /* median, best */
  return 0;
}
