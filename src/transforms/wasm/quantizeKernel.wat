;; Round-to-nearest quantization of weights (as float32) for the quantize transform, in WebAssembly
;; with 128-bit SIMD, vectors of four weights (two a turn where they fit): a first pass for each
;; group's range (and whether a weight is NaN or infinite); then, with the scales fitted from
;; those ranges, one pass for the codes and the change's figures: signal and noise energy,
;; largest error, and the histograms of the old and the new values (their range is known before
;; the pass: quantizeKernel.ts works it out from the groups' ranges, since each group's codes rise
;; with its weights).
;;
;; Each weight gets what quantizeMath.ts's quantizeValues (the reference) computes:
;;   q = clamp(round_half_even(x / S) + Z, qmin, qmax)   (a float32 quotient)
;;   r = (q - Z) * S                                     (a float32 product: exact in float64, rounded once)
;; and the error x - r in float64 (exact for two float32 values), squared and summed. r itself is
;; not stored: nothing needs it but the figures (quantizeMath.ts makes it from the codes on demand).
;; For FLOAT16 and BFLOAT16 weights r is then rounded to the weight's type (round = 1 or 2; see
;; narrow), as the reference's storeValue does: the figures are those of the values the saved
;; model gives back. In that mode the energies are also added in weight order, one at a time,
;; into lane 0 of acc (lane 1 stays 0), so they are the reference's to the last bit (runs come in
;; weight order): that JavaScript was these weights' path until now, and its figures stay. Float32
;; weights keep the lanes' faster order, as they always had.
;;
;; quant(px, pc, rows, len, ps, pz, rowStep, elemStep, qmin, qmax, acc, hmin, hscale, bins, round): `rows`
;;   runs of `len` weights from px (codes to pc, a byte each: every code range fits 8 bits, signed
;;   or not, and the low byte is the code either way). The scale and zero point (both f32) of a
;;   weight are read at ps and pz: for each run they start at ps + row * rowStep, and move by
;;   elemStep (0: one for the run; 4: one per weight) bytes a weight. acc: f64x2 signal, f64x2
;;   noise, f64x2 max (x - r) and f64x2 min (x - r) (added to; the largest |x - r| is the larger of
;;   max and -min). Each x and r is counted in bin floor((v - hmin) * hscale) (float64; 0..64, the
;;   caller adds bin 64 to bin 63) of a histogram at `bins` (old values) and `bins` + 1088 (new
;;   ones), lane j of a vector into the copy at + 272·j (68 counts; the caller sums the four), 32
;;   bytes of scratch at `bins` + 2176. Every x and r must lie in [hmin, hmax] (hscale = 64 /
;;   (hmax - hmin), or 0): (v - hmin) * hscale is then 0..64, exact as an integer in float64 once
;;   floored and plus 2^50 (where it is 4 * bin in the low bits).
;;   Minima and maxima are pmin/pmax (one instruction each; V8's NaN-propagating min/max take
;;   several): the weights are finite (ranges said so).
;; ranges(px, rows, len, plo, phi, rowStep, elemStep) -> nonFinite: the smallest and largest
;;   weight of each group (f32, into lo and hi, which the caller starts at +Inf and -Inf), the
;;   groups laid out as quant's scales are; 1 when a weight is NaN or infinite (x - x is then NaN,
;;   else 0: summed, one NaN stays), so the caller needs no pass of its own.
(module
  (import "env" "memory" (memory 1))

  ;; narrow(x, round): four float32 rounded to FLOAT16 (round = 1) or BFLOAT16 (2), to nearest
  ;; with ties to even, and back, exactly as floatSource.ts's roundTo (NaN stays NaN, not its
  ;; bits). FLOAT16: from 2^-14 up, 13 mantissa bits go by integer rounding on the magnitude's
  ;; bits (a carry into the exponent is right), past 65504 is infinity; below 2^-14 the half's
  ;; step is 2^-24, the float32 step of [0.5, 1): adding 0.5 rounds there, subtracting is exact.
  ;; BFLOAT16: 16 bits go the same way (past the largest float32, infinity). The sign goes back on.
  (func $narrow (param $x v128) (param $round i32) (result v128)
    (local $a v128) (local $n v128)
    (local.set $a (v128.and (local.get $x) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff)))
    (if (i32.eq (local.get $round) (i32.const 2))
      (then
        (local.set $n (v128.and (v128.const i32x4 0xffff0000 0xffff0000 0xffff0000 0xffff0000)
          (i32x4.add (local.get $a) (i32x4.add (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff)
            (v128.and (i32x4.shr_u (local.get $a) (i32.const 16)) (v128.const i32x4 1 1 1 1)))))))
      (else
        (local.set $n (v128.and (v128.const i32x4 0xffffe000 0xffffe000 0xffffe000 0xffffe000)
          (i32x4.add (local.get $a) (i32x4.add (v128.const i32x4 0x0fff 0x0fff 0x0fff 0x0fff)
            (v128.and (i32x4.shr_u (local.get $a) (i32.const 13)) (v128.const i32x4 1 1 1 1))))))
        (local.set $n (v128.bitselect (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000) (local.get $n)
          (i32x4.gt_s (local.get $n) (v128.const i32x4 0x477fe000 0x477fe000 0x477fe000 0x477fe000))))
        (local.set $n (v128.bitselect
          (f32x4.sub (f32x4.add (local.get $a) (v128.const f32x4 0.5 0.5 0.5 0.5)) (v128.const f32x4 0.5 0.5 0.5 0.5))
          (local.get $n)
          (i32x4.lt_s (local.get $a) (v128.const i32x4 0x38800000 0x38800000 0x38800000 0x38800000))))))
    ;; Infinities and NaNs as they came (the integer rounding would carry a NaN's bits anywhere).
    (v128.or (v128.xor (local.get $x) (local.get $a))
      (v128.bitselect (local.get $a) (local.get $n)
        (i32x4.ge_s (local.get $a) (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000)))))

;; ordered(s, a, b): ((((s + a0) + a1) + b0) + b1), four weights' squares added in weight order.
  (func $ordered (param $s f64) (param $a v128) (param $b v128) (result f64)
    (f64.add (f64.add (f64.add (f64.add (local.get $s) (f64x2.extract_lane 0 (local.get $a))) (f64x2.extract_lane 1 (local.get $a)))
      (f64x2.extract_lane 0 (local.get $b))) (f64x2.extract_lane 1 (local.get $b))))

  ;; narrowAll(p, n, round): n float32 at p through narrow, in place (n a multiple of 4 or not).
  (func (export "narrowAll") (param $p i32) (param $n i32) (param $round i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $vectors
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (v128.store (local.get $p) (call $narrow (v128.load (local.get $p)) (local.get $round)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $vectors)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $p) (local.get $end)))
        (f32.store (local.get $p) (f32x4.extract_lane 0 (call $narrow (f32x4.splat (f32.load (local.get $p))) (local.get $round))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $tail))))

  (func (export "quant") (param $px i32) (param $pc i32) (param $rows i32) (param $len i32)
    (param $ps i32) (param $pz i32) (param $rowStep i32) (param $elemStep i32) (param $qmin f32) (param $qmax f32) (param $acc i32)
    (param $hmin f64) (param $hscale f64) (param $bins i32) (param $round i32)
    (local $row i32) (local $i i32) (local $vlen i32) (local $v8 i32) (local $s i32) (local $z i32) (local $at i32)
    (local $x v128) (local $qa v128) (local $sc v128) (local $zp v128) (local $q v128) (local $r v128)
    (local $lo v128) (local $hi v128) (local $xl v128) (local $xh v128) (local $rl v128) (local $rh v128) (local $dl v128) (local $dh v128)
    (local $sig v128) (local $noi v128) (local $mx v128) (local $mn v128) (local $magic v128)
    (local $m v128) (local $k v128) (local $base v128) (local $big v128)
    (local $xs f32) (local $ss f32) (local $zs f32) (local $qs f32) (local $rs f32) (local $d f64)
    (local $sig1 f64) (local $noi1 f64) (local $mx1 f64)
    (local.set $magic (f32x4.splat (f32.const 12582912)))
    (local.set $big (f64x2.splat (f64.const 0x1p50)))
    (local.set $m (f64x2.splat (local.get $hmin)))
    (local.set $k (f64x2.splat (local.get $hscale)))
    (local.set $base (i32x4.add (i32x4.splat (local.get $bins)) (v128.const i32x4 0 272 544 816)))
    (local.set $sig (v128.load offset=0 (local.get $acc)))
    (local.set $noi (v128.load offset=16 (local.get $acc)))
    (local.set $mx (v128.load offset=32 (local.get $acc)))
    (local.set $mn (v128.load offset=48 (local.get $acc)))
    (if (local.get $round)
      (then
        (local.set $sig1 (f64.load offset=0 (local.get $acc)))
        (local.set $noi1 (f64.load offset=16 (local.get $acc)))))
    (local.set $lo (f32x4.splat (local.get $qmin)))
    (local.set $hi (f32x4.splat (local.get $qmax)))
    (local.set $vlen (i32.and (local.get $len) (i32.const -4)))
    (block $rowsDone
      (loop $rowsLoop
        (br_if $rowsDone (i32.ge_u (local.get $row) (local.get $rows)))
        (local.set $s (local.get $ps))
        (local.set $z (local.get $pz))
        (local.set $i (i32.const 0))
        ;; Eight weights a turn (two copies of the four-weight body below, the loop's own cost paid
        ;; once, the two vectors' codes narrowed into one store), then at most one turn of four, then
        ;; one at a time. The energies are added in the same order either way.
        ;; Rounding to FLOAT16 or BFLOAT16 takes the four-weight loop only, where it is (the pair loop stays free of it).
        (local.set $v8 (select (i32.const 0) (i32.and (local.get $len) (i32.const -8)) (local.get $round)))
        (block $pairDone
          (loop $pairLoop
            (br_if $pairDone (i32.ge_u (local.get $i) (local.get $v8)))
            (if (local.get $elemStep)
              (then
                (local.set $sc (v128.load (local.get $s)))
                (local.set $zp (v128.load (local.get $z)))
                (local.set $s (i32.add (local.get $s) (i32.const 16)))
                (local.set $z (i32.add (local.get $z) (i32.const 16))))
              (else
                (local.set $sc (v128.load32_splat (local.get $s)))
                (local.set $zp (v128.load32_splat (local.get $z)))))
            (local.set $x (v128.load (local.get $px)))
            (local.set $q (f32x4.add (f32x4.nearest (f32x4.div (local.get $x) (local.get $sc))) (local.get $zp)))
            (local.set $q (f32x4.pmax (local.get $lo) (f32x4.pmin (local.get $hi) (local.get $q))))
            ;; The first vector's codes wait for the second's.
            (local.set $qa (local.get $q))
            (local.set $r (f32x4.mul (f32x4.sub (local.get $q) (local.get $zp)) (local.get $sc)))
            (local.set $xl (f64x2.promote_low_f32x4 (local.get $x)))
            (local.set $xh (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))))
            (local.set $rl (f64x2.promote_low_f32x4 (local.get $r)))
            (local.set $rh (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $r) (local.get $r))))
            (local.set $dl (f64x2.sub (local.get $xl) (local.get $rl)))
            (local.set $dh (f64x2.sub (local.get $xh) (local.get $rh)))
            (local.set $sig (f64x2.add (local.get $sig) (f64x2.add (f64x2.mul (local.get $xl) (local.get $xl)) (f64x2.mul (local.get $xh) (local.get $xh)))))
            (local.set $noi (f64x2.add (local.get $noi) (f64x2.add (f64x2.mul (local.get $dl) (local.get $dl)) (f64x2.mul (local.get $dh) (local.get $dh)))))
            (local.set $mx (f64x2.pmax (local.get $mx) (f64x2.pmax (local.get $dl) (local.get $dh))))
            (local.set $mn (f64x2.pmin (local.get $mn) (f64x2.pmin (local.get $dl) (local.get $dh))))
            (v128.store offset=2176 (local.get $bins) (i32x4.add (local.get $base)
              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                (f64x2.add (f64x2.floor (f64x2.mul (f64x2.sub (local.get $xl) (local.get $m)) (local.get $k))) (local.get $big))
                (f64x2.add (f64x2.floor (f64x2.mul (f64x2.sub (local.get $xh) (local.get $m)) (local.get $k))) (local.get $big)))))
            (v128.store offset=2192 (local.get $bins) (i32x4.add (local.get $base)
              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                (f64x2.add (f64x2.floor (f64x2.mul (f64x2.sub (local.get $rl) (local.get $m)) (local.get $k))) (local.get $big))
                (f64x2.add (f64x2.floor (f64x2.mul (f64x2.sub (local.get $rh) (local.get $m)) (local.get $k))) (local.get $big)))))
            (local.set $at (i32.load offset=2176 (local.get $bins)))
            (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
            (local.set $at (i32.load offset=2180 (local.get $bins)))
            (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
            (local.set $at (i32.load offset=2184 (local.get $bins)))
            (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
            (local.set $at (i32.load offset=2188 (local.get $bins)))
            (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
            (local.set $at (i32.load offset=2192 (local.get $bins)))
            (i32.store offset=1088 (local.get $at) (i32.add (i32.load offset=1088 (local.get $at)) (i32.const 1)))
            (local.set $at (i32.load offset=2196 (local.get $bins)))
            (i32.store offset=1088 (local.get $at) (i32.add (i32.load offset=1088 (local.get $at)) (i32.const 1)))
            (local.set $at (i32.load offset=2200 (local.get $bins)))
            (i32.store offset=1088 (local.get $at) (i32.add (i32.load offset=1088 (local.get $at)) (i32.const 1)))
            (local.set $at (i32.load offset=2204 (local.get $bins)))
            (i32.store offset=1088 (local.get $at) (i32.add (i32.load offset=1088 (local.get $at)) (i32.const 1)))
            (if (local.get $elemStep)
              (then
                (local.set $sc (v128.load (local.get $s)))
                (local.set $zp (v128.load (local.get $z)))
                (local.set $s (i32.add (local.get $s) (i32.const 16)))
                (local.set $z (i32.add (local.get $z) (i32.const 16))))
              (else
                (local.set $sc (v128.load32_splat (local.get $s)))
                (local.set $zp (v128.load32_splat (local.get $z)))))
            (local.set $x (v128.load offset=16 (local.get $px)))
            (local.set $q (f32x4.add (f32x4.nearest (f32x4.div (local.get $x) (local.get $sc))) (local.get $zp)))
            (local.set $q (f32x4.pmax (local.get $lo) (f32x4.pmin (local.get $hi) (local.get $q))))
            ;; Each code's byte (the low byte of q + 1.5·2^23, as in the loop below) as 0..255 in an
            ;; i32 comes through both unsigned narrowings as it is.
            (v128.store64_lane 0 (local.get $pc) (i8x16.narrow_i16x8_u
              (i16x8.narrow_i32x4_u (v128.and (f32x4.add (local.get $qa) (local.get $magic)) (v128.const i32x4 255 255 255 255))
                (v128.and (f32x4.add (local.get $q) (local.get $magic)) (v128.const i32x4 255 255 255 255)))
              (local.get $magic)))
            (local.set $r (f32x4.mul (f32x4.sub (local.get $q) (local.get $zp)) (local.get $sc)))
            (local.set $xl (f64x2.promote_low_f32x4 (local.get $x)))
            (local.set $xh (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))))
            (local.set $rl (f64x2.promote_low_f32x4 (local.get $r)))
            (local.set $rh (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $r) (local.get $r))))
            (local.set $dl (f64x2.sub (local.get $xl) (local.get $rl)))
            (local.set $dh (f64x2.sub (local.get $xh) (local.get $rh)))
            (local.set $sig (f64x2.add (local.get $sig) (f64x2.add (f64x2.mul (local.get $xl) (local.get $xl)) (f64x2.mul (local.get $xh) (local.get $xh)))))
            (local.set $noi (f64x2.add (local.get $noi) (f64x2.add (f64x2.mul (local.get $dl) (local.get $dl)) (f64x2.mul (local.get $dh) (local.get $dh)))))
            (local.set $mx (f64x2.pmax (local.get $mx) (f64x2.pmax (local.get $dl) (local.get $dh))))
            (local.set $mn (f64x2.pmin (local.get $mn) (f64x2.pmin (local.get $dl) (local.get $dh))))
            (v128.store offset=2176 (local.get $bins) (i32x4.add (local.get $base)
              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                (f64x2.add (f64x2.floor (f64x2.mul (f64x2.sub (local.get $xl) (local.get $m)) (local.get $k))) (local.get $big))
                (f64x2.add (f64x2.floor (f64x2.mul (f64x2.sub (local.get $xh) (local.get $m)) (local.get $k))) (local.get $big)))))
            (v128.store offset=2192 (local.get $bins) (i32x4.add (local.get $base)
              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                (f64x2.add (f64x2.floor (f64x2.mul (f64x2.sub (local.get $rl) (local.get $m)) (local.get $k))) (local.get $big))
                (f64x2.add (f64x2.floor (f64x2.mul (f64x2.sub (local.get $rh) (local.get $m)) (local.get $k))) (local.get $big)))))
            (local.set $at (i32.load offset=2176 (local.get $bins)))
            (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
            (local.set $at (i32.load offset=2180 (local.get $bins)))
            (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
            (local.set $at (i32.load offset=2184 (local.get $bins)))
            (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
            (local.set $at (i32.load offset=2188 (local.get $bins)))
            (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
            (local.set $at (i32.load offset=2192 (local.get $bins)))
            (i32.store offset=1088 (local.get $at) (i32.add (i32.load offset=1088 (local.get $at)) (i32.const 1)))
            (local.set $at (i32.load offset=2196 (local.get $bins)))
            (i32.store offset=1088 (local.get $at) (i32.add (i32.load offset=1088 (local.get $at)) (i32.const 1)))
            (local.set $at (i32.load offset=2200 (local.get $bins)))
            (i32.store offset=1088 (local.get $at) (i32.add (i32.load offset=1088 (local.get $at)) (i32.const 1)))
            (local.set $at (i32.load offset=2204 (local.get $bins)))
            (i32.store offset=1088 (local.get $at) (i32.add (i32.load offset=1088 (local.get $at)) (i32.const 1)))
            (local.set $px (i32.add (local.get $px) (i32.const 32)))
            (local.set $pc (i32.add (local.get $pc) (i32.const 8)))
            (local.set $i (i32.add (local.get $i) (i32.const 8)))
            (br $pairLoop)))
        (block $vecDone
          (loop $vecLoop
            (br_if $vecDone (i32.ge_u (local.get $i) (local.get $vlen)))
            (if (local.get $elemStep)
              (then
                (local.set $sc (v128.load (local.get $s)))
                (local.set $zp (v128.load (local.get $z)))
                (local.set $s (i32.add (local.get $s) (i32.const 16)))
                (local.set $z (i32.add (local.get $z) (i32.const 16))))
              (else
                (local.set $sc (v128.load32_splat (local.get $s)))
                (local.set $zp (v128.load32_splat (local.get $z)))))
            (local.set $x (v128.load (local.get $px)))
            (local.set $q (f32x4.add (f32x4.nearest (f32x4.div (local.get $x) (local.get $sc))) (local.get $zp)))
            (local.set $q (f32x4.pmax (local.get $lo) (f32x4.pmin (local.get $hi) (local.get $q))))
            ;; q is an integer in -128..255: q + 1.5·2^23 holds 2^22 + q in its low mantissa bits, so
            ;; each lane's low byte is q's byte (two's complement when negative); lanes 0-3 as four bytes.
            (v128.store32_lane 0 (local.get $pc) (i8x16.shuffle 0 4 8 12 0 0 0 0 0 0 0 0 0 0 0 0
              (f32x4.add (local.get $q) (local.get $magic)) (local.get $q)))
            (local.set $r (f32x4.mul (f32x4.sub (local.get $q) (local.get $zp)) (local.get $sc)))
            (if (local.get $round) (then (local.set $r (call $narrow (local.get $r) (local.get $round)))))
            ;; In float64, lanes 0-1 and 2-3: the error, the energies, the histogram bins.
            (local.set $xl (f64x2.promote_low_f32x4 (local.get $x)))
            (local.set $xh (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))))
            (local.set $rl (f64x2.promote_low_f32x4 (local.get $r)))
            (local.set $rh (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $r) (local.get $r))))
            (local.set $dl (f64x2.sub (local.get $xl) (local.get $rl)))
            (local.set $dh (f64x2.sub (local.get $xh) (local.get $rh)))
            (local.set $sig (f64x2.add (local.get $sig) (f64x2.add (f64x2.mul (local.get $xl) (local.get $xl)) (f64x2.mul (local.get $xh) (local.get $xh)))))
            (local.set $noi (f64x2.add (local.get $noi) (f64x2.add (f64x2.mul (local.get $dl) (local.get $dl)) (f64x2.mul (local.get $dh) (local.get $dh)))))
            (if (local.get $round)
              (then
                (local.set $sig1 (call $ordered (local.get $sig1) (f64x2.mul (local.get $xl) (local.get $xl)) (f64x2.mul (local.get $xh) (local.get $xh))))
                (local.set $noi1 (call $ordered (local.get $noi1) (f64x2.mul (local.get $dl) (local.get $dl)) (f64x2.mul (local.get $dh) (local.get $dh))))))
            ;; Largest and least error, not |error|: V8's f64x2.abs is a constant load and an and a vector.
            (local.set $mx (f64x2.pmax (local.get $mx) (f64x2.pmax (local.get $dl) (local.get $dh))))
            (local.set $mn (f64x2.pmin (local.get $mn) (f64x2.pmin (local.get $dl) (local.get $dh))))
            ;; The count addresses of x and of r: floor((v - hmin) * hscale) + 2^50 has 4 * bin (a byte
            ;; offset: 2^50's last bit is 1/4) in its low 32 bits; plus the lane's copy; stored and read
            ;; back as four i32 each (cheaper than extracting lanes). No cap at 63: a value at hmax
            ;; lands in a 65th count, which the caller adds to the 64th.
            (v128.store offset=2176 (local.get $bins) (i32x4.add (local.get $base)
              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                (f64x2.add (f64x2.floor (f64x2.mul (f64x2.sub (local.get $xl) (local.get $m)) (local.get $k))) (local.get $big))
                (f64x2.add (f64x2.floor (f64x2.mul (f64x2.sub (local.get $xh) (local.get $m)) (local.get $k))) (local.get $big)))))
            (v128.store offset=2192 (local.get $bins) (i32x4.add (local.get $base)
              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                (f64x2.add (f64x2.floor (f64x2.mul (f64x2.sub (local.get $rl) (local.get $m)) (local.get $k))) (local.get $big))
                (f64x2.add (f64x2.floor (f64x2.mul (f64x2.sub (local.get $rh) (local.get $m)) (local.get $k))) (local.get $big)))))
            (local.set $at (i32.load offset=2176 (local.get $bins)))
            (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
            (local.set $at (i32.load offset=2180 (local.get $bins)))
            (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
            (local.set $at (i32.load offset=2184 (local.get $bins)))
            (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
            (local.set $at (i32.load offset=2188 (local.get $bins)))
            (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
            (local.set $at (i32.load offset=2192 (local.get $bins)))
            (i32.store offset=1088 (local.get $at) (i32.add (i32.load offset=1088 (local.get $at)) (i32.const 1)))
            (local.set $at (i32.load offset=2196 (local.get $bins)))
            (i32.store offset=1088 (local.get $at) (i32.add (i32.load offset=1088 (local.get $at)) (i32.const 1)))
            (local.set $at (i32.load offset=2200 (local.get $bins)))
            (i32.store offset=1088 (local.get $at) (i32.add (i32.load offset=1088 (local.get $at)) (i32.const 1)))
            (local.set $at (i32.load offset=2204 (local.get $bins)))
            (i32.store offset=1088 (local.get $at) (i32.add (i32.load offset=1088 (local.get $at)) (i32.const 1)))
            (local.set $px (i32.add (local.get $px) (i32.const 16)))
            (local.set $pc (i32.add (local.get $pc) (i32.const 4)))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $vecLoop)))
        ;; The run's last 0-3 weights, one at a time with the same arithmetic (bins in copy 0).
        (block $tailDone
          (loop $tailLoop
            (br_if $tailDone (i32.ge_u (local.get $i) (local.get $len)))
            (local.set $ss (f32.load (local.get $s)))
            (local.set $zs (f32.load (local.get $z)))
            (local.set $s (i32.add (local.get $s) (local.get $elemStep)))
            (local.set $z (i32.add (local.get $z) (local.get $elemStep)))
            (local.set $xs (f32.load (local.get $px)))
            (local.set $qs (f32.add (f32.nearest (f32.div (local.get $xs) (local.get $ss))) (local.get $zs)))
            (local.set $qs (f32.max (local.get $qmin) (f32.min (local.get $qmax) (local.get $qs))))
            (i32.store8 (local.get $pc) (i32.trunc_sat_f32_s (local.get $qs)))
            (local.set $rs (f32.mul (f32.sub (local.get $qs) (local.get $zs)) (local.get $ss)))
            (if (local.get $round) (then (local.set $rs (f32x4.extract_lane 0 (call $narrow (f32x4.splat (local.get $rs)) (local.get $round))))))
            (local.set $d (f64.sub (f64.promote_f32 (local.get $xs)) (f64.promote_f32 (local.get $rs))))
            (local.set $sig1 (f64.add (local.get $sig1) (f64.mul (f64.promote_f32 (local.get $xs)) (f64.promote_f32 (local.get $xs)))))
            (local.set $noi1 (f64.add (local.get $noi1) (f64.mul (local.get $d) (local.get $d))))
            (local.set $mx1 (f64.max (local.get $mx1) (f64.abs (local.get $d))))
            ;; (v - hmin) * hscale ≥ 0, where truncation is floor.
            (local.set $at (i32.trunc_sat_f64_s (f64.mul (f64.sub (f64.promote_f32 (local.get $xs)) (local.get $hmin)) (local.get $hscale))))
            (local.set $at (i32.add (local.get $bins) (i32.shl (local.get $at) (i32.const 2))))
            (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
            (local.set $at (i32.trunc_sat_f64_s (f64.mul (f64.sub (f64.promote_f32 (local.get $rs)) (local.get $hmin)) (local.get $hscale))))
            (local.set $at (i32.add (local.get $bins) (i32.shl (local.get $at) (i32.const 2))))
            (i32.store offset=1088 (local.get $at) (i32.add (i32.load offset=1088 (local.get $at)) (i32.const 1)))
            (local.set $px (i32.add (local.get $px) (i32.const 4)))
            (local.set $pc (i32.add (local.get $pc) (i32.const 1)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $tailLoop)))
        (local.set $ps (i32.add (local.get $ps) (local.get $rowStep)))
        (local.set $pz (i32.add (local.get $pz) (local.get $rowStep)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rowsLoop)))
    ;; The scalar tails' sums go into lane 0.
    (v128.store offset=0 (local.get $acc) (f64x2.add (local.get $sig) (f64x2.replace_lane 0 (f64x2.splat (f64.const 0)) (local.get $sig1))))
    (v128.store offset=16 (local.get $acc) (f64x2.add (local.get $noi) (f64x2.replace_lane 0 (f64x2.splat (f64.const 0)) (local.get $noi1))))
    (v128.store offset=32 (local.get $acc) (f64x2.pmax (local.get $mx) (f64x2.splat (local.get $mx1))))
    (v128.store offset=48 (local.get $acc) (local.get $mn))
    (if (local.get $round)
      (then
        (v128.store offset=0 (local.get $acc) (f64x2.replace_lane 0 (f64x2.splat (f64.const 0)) (local.get $sig1)))
        (v128.store offset=16 (local.get $acc) (f64x2.replace_lane 0 (f64x2.splat (f64.const 0)) (local.get $noi1))))))

  (func (export "ranges") (param $px i32) (param $rows i32) (param $len i32) (param $plo i32) (param $phi i32)
    (param $rowStep i32) (param $elemStep i32) (result i32)
    (local $row i32) (local $i i32) (local $vlen i32) (local $l i32) (local $h i32) (local $x v128) (local $vlo v128) (local $vhi v128) (local $xs f32)
    (local $bad v128) (local $bad1 f32) (local $x2 v128) (local $vlo2 v128) (local $vhi2 v128) (local $v8 i32)
    (local.set $vlen (i32.and (local.get $len) (i32.const -4)))
    (block $rowsDone
      (loop $rowsLoop
        (br_if $rowsDone (i32.ge_u (local.get $row) (local.get $rows)))
        (local.set $l (local.get $plo))
        (local.set $h (local.get $phi))
        (local.set $i (i32.const 0))
        (if (local.get $elemStep)
          (then
            ;; A group per weight: lo and hi move with the weights.
            (block $vecDone
              (loop $vecLoop
                (br_if $vecDone (i32.ge_u (local.get $i) (local.get $vlen)))
                (local.set $x (v128.load (local.get $px)))
                (local.set $bad (f32x4.add (local.get $bad) (f32x4.sub (local.get $x) (local.get $x))))
                (v128.store (local.get $l) (f32x4.pmin (v128.load (local.get $l)) (local.get $x)))
                (v128.store (local.get $h) (f32x4.pmax (v128.load (local.get $h)) (local.get $x)))
                (local.set $l (i32.add (local.get $l) (i32.const 16)))
                (local.set $h (i32.add (local.get $h) (i32.const 16)))
                (local.set $px (i32.add (local.get $px) (i32.const 16)))
                (local.set $i (i32.add (local.get $i) (i32.const 4)))
                (br $vecLoop))))
          (else
            ;; One group for the run: four lanes, folded at the end; eight weights a turn into two
            ;; sets of lanes, so that a min or a max does not wait on the one just before it.
            (local.set $vlo (v128.load32_splat (local.get $l)))
            (local.set $vhi (v128.load32_splat (local.get $h)))
            (local.set $vlo2 (local.get $vlo))
            (local.set $vhi2 (local.get $vhi))
            (local.set $v8 (i32.and (local.get $len) (i32.const -8)))
            (block $pairDone
              (loop $pairLoop
                (br_if $pairDone (i32.ge_u (local.get $i) (local.get $v8)))
                (local.set $x (v128.load (local.get $px)))
                (local.set $x2 (v128.load offset=16 (local.get $px)))
                (local.set $bad (f32x4.add (local.get $bad) (f32x4.add (f32x4.sub (local.get $x) (local.get $x)) (f32x4.sub (local.get $x2) (local.get $x2)))))
                (local.set $vlo (f32x4.pmin (local.get $vlo) (local.get $x)))
                (local.set $vhi (f32x4.pmax (local.get $vhi) (local.get $x)))
                (local.set $vlo2 (f32x4.pmin (local.get $vlo2) (local.get $x2)))
                (local.set $vhi2 (f32x4.pmax (local.get $vhi2) (local.get $x2)))
                (local.set $px (i32.add (local.get $px) (i32.const 32)))
                (local.set $i (i32.add (local.get $i) (i32.const 8)))
                (br $pairLoop)))
            (local.set $vlo (f32x4.pmin (local.get $vlo) (local.get $vlo2)))
            (local.set $vhi (f32x4.pmax (local.get $vhi) (local.get $vhi2)))
            (block $runDone
              (loop $runLoop
                (br_if $runDone (i32.ge_u (local.get $i) (local.get $vlen)))
                (local.set $x (v128.load (local.get $px)))
                (local.set $bad (f32x4.add (local.get $bad) (f32x4.sub (local.get $x) (local.get $x))))
                (local.set $vlo (f32x4.pmin (local.get $vlo) (local.get $x)))
                (local.set $vhi (f32x4.pmax (local.get $vhi) (local.get $x)))
                (local.set $px (i32.add (local.get $px) (i32.const 16)))
                (local.set $i (i32.add (local.get $i) (i32.const 4)))
                (br $runLoop)))
            (f32.store (local.get $l) (f32.min
              (f32.min (f32x4.extract_lane 0 (local.get $vlo)) (f32x4.extract_lane 1 (local.get $vlo)))
              (f32.min (f32x4.extract_lane 2 (local.get $vlo)) (f32x4.extract_lane 3 (local.get $vlo)))))
            (f32.store (local.get $h) (f32.max
              (f32.max (f32x4.extract_lane 0 (local.get $vhi)) (f32x4.extract_lane 1 (local.get $vhi)))
              (f32.max (f32x4.extract_lane 2 (local.get $vhi)) (f32x4.extract_lane 3 (local.get $vhi)))))))
        (block $tailDone
          (loop $tailLoop
            (br_if $tailDone (i32.ge_u (local.get $i) (local.get $len)))
            (local.set $xs (f32.load (local.get $px)))
            (local.set $bad1 (f32.add (local.get $bad1) (f32.sub (local.get $xs) (local.get $xs))))
            (f32.store (local.get $l) (f32.min (f32.load (local.get $l)) (local.get $xs)))
            (f32.store (local.get $h) (f32.max (f32.load (local.get $h)) (local.get $xs)))
            (local.set $l (i32.add (local.get $l) (local.get $elemStep)))
            (local.set $h (i32.add (local.get $h) (local.get $elemStep)))
            (local.set $px (i32.add (local.get $px) (i32.const 4)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $tailLoop)))
        (local.set $plo (i32.add (local.get $plo) (local.get $rowStep)))
        (local.set $phi (i32.add (local.get $phi) (local.get $rowStep)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rowsLoop)))
    (i32.or (v128.any_true (f32x4.ne (local.get $bad) (local.get $bad))) (f32.ne (local.get $bad1) (local.get $bad1))))
)
