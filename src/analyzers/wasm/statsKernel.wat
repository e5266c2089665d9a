;; The statistics pass over float32 weights, in WebAssembly with 128-bit SIMD: V8 does not
;; vectorize JavaScript loops, and on the two passes below it spends most of its time on bounds
;; checks and float64 conversions. The JavaScript side (statsKernel.ts) widens a chunk straight
;; into this memory and runs both passes on it; it keeps its own code for tensors with NaN or Inf.
;;
;; pass1(data, n, out):  out[0..4] (f64) = min, max, sum, exact zeros, sum of x^2 (each square
;;                       exact in float64; the caller decides whether the variance from it is exact
;;                       enough, and otherwise sums squared deviations itself). The sum of squares
;;                       is finite exactly when every value is: (3.4e38)^2 * 2^31 is far below
;;                       float64's limit, and NaN or Inf carries through.
;; pass2(data, n, ...):  needs every value finite and inside [edges[0], edges[bins]] (pass 1's
;;                       min/max); adds to `counts` (u32, 4 interleaved copies: counts[4k+lane],
;;                       so consecutive values in one bin don't wait on each other's store; one
;;                       more row, k = bins, takes the values counted exactly instead) and writes
;;                       out[0] (f64) = |x| <= near count.
;; The bin of x is numpy's: pass2 estimates floor((x - first) * scale) four values at a time in
;; float32 and keeps it when the estimate is clearly inside a bin; otherwise $bin estimates it in
;; float64 and moves it by one if the float32 edges say so. The last bin includes the maximum.
;; Pass 2 works in blocks of 1024 values: one branch-free loop computes every bin into a scratch
;; list, a second loop counts the list, a third (rare) re-counts the unsure values exactly. Mixing
;; the increments and the unsure branch into the vector loop made V8's code 1.4x slower.
(module
  (memory (export "memory") 1)

  (func (export "pass1") (param $p i32) (param $n i32) (param $out i32)
    (local $vend i32) (local $end i32) (local $v v128)
    (local $lo v128) (local $hi v128) (local $sumLow v128) (local $sumHigh v128) (local $wide v128)
    (local $squaresLow v128) (local $squaresHigh v128) (local $squares f64)
    (local $zeros v128) (local $zero v128)
    (local $x f32) (local $min f32) (local $max f32) (local $sum f64) (local $z i32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $lo (f32x4.splat (f32.const inf)))
    (local.set $hi (f32x4.splat (f32.const -inf)))
    (local.set $zero (v128.const i32x4 0 0 0 0))
    (block $done
      (loop $vectors
        (br_if $done (i32.ge_u (local.get $p) (local.get $vend)))
        (local.set $v (v128.load (local.get $p)))
        (local.set $lo (f32x4.pmin (local.get $lo) (local.get $v)))
        (local.set $hi (f32x4.pmax (local.get $hi) (local.get $v)))
        (local.set $zeros (i32x4.sub (local.get $zeros) (f32x4.eq (local.get $v) (local.get $zero))))
        (local.set $wide (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $sumLow (f64x2.add (local.get $sumLow) (local.get $wide)))
        (local.set $squaresLow (f64x2.add (local.get $squaresLow) (f64x2.mul (local.get $wide) (local.get $wide))))
        (local.set $wide (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v))))
        (local.set $sumHigh (f64x2.add (local.get $sumHigh) (local.get $wide)))
        (local.set $squaresHigh (f64x2.add (local.get $squaresHigh) (f64x2.mul (local.get $wide) (local.get $wide))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $vectors)))
    (local.set $min (f32.min (f32.min (f32x4.extract_lane 0 (local.get $lo)) (f32x4.extract_lane 1 (local.get $lo)))
                             (f32.min (f32x4.extract_lane 2 (local.get $lo)) (f32x4.extract_lane 3 (local.get $lo)))))
    (local.set $max (f32.max (f32.max (f32x4.extract_lane 0 (local.get $hi)) (f32x4.extract_lane 1 (local.get $hi)))
                             (f32.max (f32x4.extract_lane 2 (local.get $hi)) (f32x4.extract_lane 3 (local.get $hi)))))
    (local.set $sumLow (f64x2.add (local.get $sumLow) (local.get $sumHigh)))
    (local.set $sum (f64.add (f64x2.extract_lane 0 (local.get $sumLow)) (f64x2.extract_lane 1 (local.get $sumLow))))
    (local.set $squaresLow (f64x2.add (local.get $squaresLow) (local.get $squaresHigh)))
    (local.set $squares (f64.add (f64x2.extract_lane 0 (local.get $squaresLow)) (f64x2.extract_lane 1 (local.get $squaresLow))))
    (local.set $zeros (i32x4.add (local.get $zeros) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $zeros) (local.get $zeros))))
    (local.set $z (i32.add (i32x4.extract_lane 0 (local.get $zeros)) (i32x4.extract_lane 1 (local.get $zeros))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $x (f32.load (local.get $p)))
        (local.set $min (f32.min (local.get $min) (local.get $x)))
        (local.set $max (f32.max (local.get $max) (local.get $x)))
        (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (local.get $x))))
        (local.set $squares (f64.add (local.get $squares) (f64.mul (f64.promote_f32 (local.get $x)) (f64.promote_f32 (local.get $x)))))
        (local.set $z (i32.add (local.get $z) (f32.eq (local.get $x) (f32.const 0))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $tail)))
    (f64.store offset=0 (local.get $out) (f64.promote_f32 (local.get $min)))
    (f64.store offset=8 (local.get $out) (f64.promote_f32 (local.get $max)))
    (f64.store offset=16 (local.get $out) (local.get $sum))
    (f64.store offset=24 (local.get $out) (f64.convert_i32_u (local.get $z)))
    (f64.store offset=32 (local.get $out) (local.get $squares)))

  ;; Histogram settings for $bin, set by pass2.
  (global $edges (mut i32) (i32.const 0))
  (global $lastBin (mut i32) (i32.const 0))
  (global $counts (mut i32) (i32.const 0))
  (global $first (mut f64) (f64.const 0))
  (global $scale (mut f64) (f64.const 0))

  ;; Counts x (finite, inside the edges) in copy `lane` (0..3) of the histogram.
  (func $bin (param $x f32) (param $lane i32)
    (local $k i32) (local $edge i32)
    (local.set $k (i32.trunc_sat_f64_u
      (f64.mul (f64.sub (f64.promote_f32 (local.get $x)) (global.get $first)) (global.get $scale))))
    (local.set $k (select (global.get $lastBin) (local.get $k) (i32.gt_u (local.get $k) (global.get $lastBin))))
    (local.set $edge (i32.add (global.get $edges) (i32.shl (local.get $k) (i32.const 2))))
    ;; edges only rise, so at most one of the two moves applies
    (local.set $k (i32.add
      (i32.sub (local.get $k) (f32.lt (local.get $x) (f32.load (local.get $edge))))
      (i32.and (f32.ge (local.get $x) (f32.load offset=4 (local.get $edge)))
               (i32.lt_u (local.get $k) (global.get $lastBin)))))
    (local.set $edge (i32.add (global.get $counts)
      (i32.shl (i32.add (i32.shl (local.get $k) (i32.const 2)) (local.get $lane)) (i32.const 2))))
    (i32.store (local.get $edge) (i32.add (i32.load (local.get $edge)) (i32.const 1))))

  ;; Counts exactly the value behind list entry q + 4 lane if it was listed as unsure.
  (func $binIfListedUnsure (param $q i32) (param $lane i32) (param $blockStart i32) (param $scratch i32) (param $unsureListed i32)
    (local $entry i32)
    (local.set $entry (i32.add (local.get $q) (i32.shl (local.get $lane) (i32.const 2))))
    (if (i32.ge_s (i32.load (local.get $entry)) (local.get $unsureListed))
      (then (call $bin
        (f32.load (i32.add (local.get $blockStart) (i32.sub (local.get $entry) (local.get $scratch))))
        (local.get $lane)))))

  ;; `certain`: the bin estimated in float32 is right when its fractional part is inside
  ;; (certain, 1 - certain): a bound on float32 rounding of the estimate and of the edges, from the
  ;; caller. Other values (about 2 in 10,000) take the exact path, $bin. `scratch` has room for
  ;; 1024 u32.
  (func (export "pass2")
    (param $p i32) (param $n i32) (param $edges i32) (param $bins i32) (param $counts i32)
    (param $first f64) (param $scale f64) (param $near f32) (param $certain f32) (param $out i32) (param $scratch i32)
    (local $vend i32) (local $end i32) (local $blockStart i32) (local $blockEnd i32)
    (local $listEnd i32) (local $q i32) (local $at i32) (local $countsBias i32)
    (local $v v128) (local $x f32) (local $nearV v128) (local $nearCount v128)
    (local $firstV v128) (local $scaleV v128) (local $loV v128) (local $hiV v128)
    (local $t v128) (local $whole v128) (local $unsure v128) (local $anyUnsure v128) (local $unsureBits v128) (local $unsureListed v128)
    (local $nearN i32)
    (global.set $edges (local.get $edges))
    (global.set $lastBin (i32.sub (local.get $bins) (i32.const 1)))
    (global.set $counts (local.get $counts))
    (global.set $first (local.get $first))
    (global.set $scale (local.get $scale))
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $nearV (f32x4.splat (local.get $near)))
    (local.set $firstV (f32x4.splat (f32.demote_f64 (local.get $first))))
    (local.set $scaleV (f32x4.splat (f32.demote_f64 (local.get $scale))))
    (local.set $loV (f32x4.splat (local.get $certain)))
    (local.set $hiV (f32x4.splat (f32.sub (f32.const 1) (local.get $certain))))
    ;; A bin k is listed as the bits of the float32 k + 2^23 (0x4b000000 + k, k < 2^22), shifted
    ;; left by 2 with the lane added: 0x2c000000 + 4k + lane (mod 2^32). Its count's address is
    ;; counts + 16k + 4 lane = countsBias + (listed << 2), again mod 2^32.
    (local.set $countsBias (i32.sub (local.get $counts) (i32.const 0xb0000000)))
    (local.set $unsureBits (i32x4.splat (i32.add (i32.const 0x4b000000) (local.get $bins))))
    (local.set $unsureListed (i32x4.splat (i32.add (i32.const 0x2c000000) (i32.shl (local.get $bins) (i32.const 2)))))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $p) (local.get $vend)))
        (local.set $blockStart (local.get $p))
        (local.set $blockEnd (select (local.get $vend) (i32.add (local.get $p) (i32.const 4096))
          (i32.lt_u (i32.sub (local.get $vend) (local.get $p)) (i32.const 4096))))
        (local.set $listEnd (local.get $scratch))
        (local.set $anyUnsure (v128.const i32x4 0 0 0 0))
        ;; 1: near-zeros, and each value's bin (bin `bins` where unsure)
        (loop $vectors
          (local.set $v (v128.load (local.get $p)))
          (local.set $nearCount (i32x4.sub (local.get $nearCount) (f32x4.le (f32x4.abs (local.get $v)) (local.get $nearV))))
          (local.set $t (f32x4.mul (f32x4.sub (local.get $v) (local.get $firstV)) (local.get $scaleV)))
          (local.set $whole (f32x4.floor (local.get $t)))
          (local.set $t (f32x4.sub (local.get $t) (local.get $whole)))
          (local.set $unsure (v128.or (f32x4.le (local.get $t) (local.get $loV)) (f32x4.ge (local.get $t) (local.get $hiV))))
          (local.set $anyUnsure (v128.or (local.get $anyUnsure) (local.get $unsure)))
          (v128.store (local.get $listEnd) (i32x4.add
            (i32x4.shl
              (v128.bitselect (local.get $unsureBits)
                (f32x4.add (local.get $whole) (v128.const f32x4 0x1p23 0x1p23 0x1p23 0x1p23))
                (local.get $unsure))
              (i32.const 2))
            (v128.const i32x4 0 1 2 3)))
          (local.set $listEnd (i32.add (local.get $listEnd) (i32.const 16)))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $vectors (i32.lt_u (local.get $p) (local.get $blockEnd))))
        ;; 2: count the listed bins
        (local.set $q (local.get $scratch))
        (loop $increments
          (local.set $at (i32.add (local.get $countsBias) (i32.shl (i32.load offset=0 (local.get $q)) (i32.const 2))))
          (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
          (local.set $at (i32.add (local.get $countsBias) (i32.shl (i32.load offset=4 (local.get $q)) (i32.const 2))))
          (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
          (local.set $at (i32.add (local.get $countsBias) (i32.shl (i32.load offset=8 (local.get $q)) (i32.const 2))))
          (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
          (local.set $at (i32.add (local.get $countsBias) (i32.shl (i32.load offset=12 (local.get $q)) (i32.const 2))))
          (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
          (local.set $q (i32.add (local.get $q) (i32.const 16)))
          (br_if $increments (i32.lt_u (local.get $q) (local.get $listEnd))))
        ;; 3: the unsure values, exactly (their listed count went to the extra row); a block has
        ;; one about every third time, so the list is searched four entries at a time
        (if (v128.any_true (local.get $anyUnsure))
          (then
            (local.set $q (local.get $scratch))
            (loop $unsureVectors
              (if (v128.any_true (i32x4.ge_s (v128.load (local.get $q)) (local.get $unsureListed)))
                (then
                  (call $binIfListedUnsure (local.get $q) (i32.const 0) (local.get $blockStart) (local.get $scratch) (i32x4.extract_lane 0 (local.get $unsureListed)))
                  (call $binIfListedUnsure (local.get $q) (i32.const 1) (local.get $blockStart) (local.get $scratch) (i32x4.extract_lane 0 (local.get $unsureListed)))
                  (call $binIfListedUnsure (local.get $q) (i32.const 2) (local.get $blockStart) (local.get $scratch) (i32x4.extract_lane 0 (local.get $unsureListed)))
                  (call $binIfListedUnsure (local.get $q) (i32.const 3) (local.get $blockStart) (local.get $scratch) (i32x4.extract_lane 0 (local.get $unsureListed)))))
              (local.set $q (i32.add (local.get $q) (i32.const 16)))
              (br_if $unsureVectors (i32.lt_u (local.get $q) (local.get $listEnd))))))
        (br $blocks)))
    (local.set $nearCount (i32x4.add (local.get $nearCount) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $nearCount) (local.get $nearCount))))
    (local.set $nearN (i32.add (i32x4.extract_lane 0 (local.get $nearCount)) (i32x4.extract_lane 1 (local.get $nearCount))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $x (f32.load (local.get $p)))
        (local.set $nearN (i32.add (local.get $nearN) (f32.le (f32.abs (local.get $x)) (local.get $near))))
        (call $bin (local.get $x) (i32.const 0))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $tail)))
    (f64.store offset=0 (local.get $out) (f64.convert_i32_u (local.get $nearN))))

  ;; ranges(p, n, inner, size, c, left, lows, highs): per-channel min and max (f32 arrays of `size`
  ;; at lows and highs) of n finite values, the channel of each a run of `inner` values; the first
  ;; value is in channel c with `left` values of its run to go. A value only replaces a bound that
  ;; it strictly passes (as the JavaScript does). inner = 1 (the last axis) goes row by row, four
  ;; channels at a time.
  (func $runBounds (param $p i32) (param $len i32) (param $lowAt i32) (param $highAt i32)
    (local $vend i32) (local $end i32) (local $lo v128) (local $hi v128) (local $x f32) (local $l f32) (local $h f32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $len) (i32.const 2))))
    (local.set $vend (i32.add (local.get $p) (i32.shl (i32.and (local.get $len) (i32.const -4)) (i32.const 2))))
    (local.set $l (f32.load (local.get $lowAt)))
    (local.set $h (f32.load (local.get $highAt)))
    (if (i32.lt_u (local.get $p) (local.get $vend))
      (then
        (local.set $lo (f32x4.splat (local.get $l)))
        (local.set $hi (f32x4.splat (local.get $h)))
        (loop $vectors
          (local.set $lo (f32x4.pmin (local.get $lo) (v128.load (local.get $p))))
          (local.set $hi (f32x4.pmax (local.get $hi) (v128.load (local.get $p))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $vectors (i32.lt_u (local.get $p) (local.get $vend))))
        (local.set $l (f32.min (f32.min (f32x4.extract_lane 0 (local.get $lo)) (f32x4.extract_lane 1 (local.get $lo)))
                               (f32.min (f32x4.extract_lane 2 (local.get $lo)) (f32x4.extract_lane 3 (local.get $lo)))))
        (local.set $h (f32.max (f32.max (f32x4.extract_lane 0 (local.get $hi)) (f32x4.extract_lane 1 (local.get $hi)))
                               (f32.max (f32x4.extract_lane 2 (local.get $hi)) (f32x4.extract_lane 3 (local.get $hi)))))))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $x (f32.load (local.get $p)))
        (local.set $l (select (local.get $x) (local.get $l) (f32.lt (local.get $x) (local.get $l))))
        (local.set $h (select (local.get $x) (local.get $h) (f32.gt (local.get $x) (local.get $h))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $tail)))
    (f32.store (local.get $lowAt) (local.get $l))
    (f32.store (local.get $highAt) (local.get $h)))

  (func (export "ranges") (param $p i32) (param $n i32) (param $inner i32) (param $size i32) (param $c i32) (param $left i32) (param $lows i32) (param $highs i32)
    (local $end i32) (local $len i32) (local $j i32) (local $at i32) (local $cols i32) (local $v v128)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (if (i32.eq (local.get $inner) (i32.const 1))
      (then
        ;; values up to the start of a row one at a time, then whole rows, then the rest
        (block $aligned
          (loop $lead
            (br_if $aligned (i32.or (i32.eqz (local.get $c)) (i32.ge_u (local.get $p) (local.get $end))))
            (call $runBounds (local.get $p) (i32.const 1)
              (i32.add (local.get $lows) (i32.shl (local.get $c) (i32.const 2))) (i32.add (local.get $highs) (i32.shl (local.get $c) (i32.const 2))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (if (i32.eq (local.get $c) (local.get $size)) (then (local.set $c (i32.const 0))))
            (br $lead)))
        (local.set $cols (i32.and (local.get $size) (i32.const -4)))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.lt_u (i32.shr_u (i32.sub (local.get $end) (local.get $p)) (i32.const 2)) (local.get $size)))
            (local.set $j (i32.const 0))
            (block $colsDone
              (loop $columns
                (br_if $colsDone (i32.ge_u (local.get $j) (local.get $cols)))
                (local.set $v (v128.load (i32.add (local.get $p) (i32.shl (local.get $j) (i32.const 2)))))
                (local.set $at (i32.add (local.get $lows) (i32.shl (local.get $j) (i32.const 2))))
                (v128.store (local.get $at) (f32x4.pmin (v128.load (local.get $at)) (local.get $v)))
                (local.set $at (i32.add (local.get $highs) (i32.shl (local.get $j) (i32.const 2))))
                (v128.store (local.get $at) (f32x4.pmax (v128.load (local.get $at)) (local.get $v)))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $columns)))
            (block $restDone
              (loop $rest
                (br_if $restDone (i32.ge_u (local.get $j) (local.get $size)))
                (call $runBounds (i32.add (local.get $p) (i32.shl (local.get $j) (i32.const 2))) (i32.const 1)
                  (i32.add (local.get $lows) (i32.shl (local.get $j) (i32.const 2))) (i32.add (local.get $highs) (i32.shl (local.get $j) (i32.const 2))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $rest)))
            (local.set $p (i32.add (local.get $p) (i32.shl (local.get $size) (i32.const 2))))
            (br $rows)))
        ;; what is left: part of a row, from channel 0
        (local.set $c (i32.const 0))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $p) (local.get $end)))
            (call $runBounds (local.get $p) (i32.const 1)
              (i32.add (local.get $lows) (i32.shl (local.get $c) (i32.const 2))) (i32.add (local.get $highs) (i32.shl (local.get $c) (i32.const 2))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $tail)))
        (return)))
    (block $done
      (loop $runs
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $len (i32.shr_u (i32.sub (local.get $end) (local.get $p)) (i32.const 2)))
        (if (i32.lt_u (local.get $left) (local.get $len)) (then (local.set $len (local.get $left))))
        (call $runBounds (local.get $p) (local.get $len)
          (i32.add (local.get $lows) (i32.shl (local.get $c) (i32.const 2))) (i32.add (local.get $highs) (i32.shl (local.get $c) (i32.const 2))))
        (local.set $p (i32.add (local.get $p) (i32.shl (local.get $len) (i32.const 2))))
        (local.set $left (local.get $inner))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (if (i32.eq (local.get $c) (local.get $size)) (then (local.set $c (i32.const 0))))
        (br $runs))))
)
