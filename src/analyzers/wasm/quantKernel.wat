;; What INT8/INT4 quantization would do to a run of float32 weights, in WebAssembly with 128-bit
;; SIMD, all six variants in one pass: symmetric INT8 and INT4 per tensor, asymmetric UINT8 and
;; UINT4 per tensor (with a zero point), symmetric INT8 and INT4 per channel, and the count of
;; each per-channel INT8 code. It shares the statistics kernel's memory (the chunk is already
;; there); quantKernel.ts lays out the rest and reads the sums back.
;;
;; Each variant is what quantize.ts computes in float64 for one value, four at a time: the code
;; q = clamp(round_half_even(x / S)) (a float32 quotient: float64's rounded to float32 is the
;; same), r = S·q rounded to float32 (exact in float32 arithmetic too), and the error x - r in
;; float64 (exact), squared and summed; the symmetric ones keep max |x - r| as well.
;;
;; quant(p, n, c8, c4, step, params, acc, counts): values p[0..n) (all finite); per-channel scales
;;   read as four lanes at c8 and c4, which move by `step` bytes a vector (0: one scale for the run,
;;   splatted; 16: one scale a value). params: 16-byte splats of the tensor's INT8 scale, INT4
;;   scale, UINT8 scale, UINT8 zero point, UINT4 scale, UINT4 zero point, then lane masks for a
;;   last vector of 0..3 values. acc (f64): noise of INT8, INT4, UINT8, UINT4 per tensor, INT8,
;;   INT4 per channel; then max error of INT8, INT4 per tensor, INT8, INT4 per channel (added to).
;;   counts (u32): counts[4 (code + 128) + lane]. A last partial vector is padded with zeros (no
;;   error, code 0 counted: the caller takes those counts back off).
(module
  (import "stats" "memory" (memory 1))

  (func $count (param $counts i32) (param $q v128)
    (local $c v128) (local $at i32)
    (local.set $c (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $q)) (v128.const i32x4 128 128 128 128)) (i32.const 4)))
    (local.set $at (i32.add (local.get $counts) (i32x4.extract_lane 0 (local.get $c))))
    (i32.store offset=0 (local.get $at) (i32.add (i32.load offset=0 (local.get $at)) (i32.const 1)))
    (local.set $at (i32.add (local.get $counts) (i32x4.extract_lane 1 (local.get $c))))
    (i32.store offset=4 (local.get $at) (i32.add (i32.load offset=4 (local.get $at)) (i32.const 1)))
    (local.set $at (i32.add (local.get $counts) (i32x4.extract_lane 2 (local.get $c))))
    (i32.store offset=8 (local.get $at) (i32.add (i32.load offset=8 (local.get $at)) (i32.const 1)))
    (local.set $at (i32.add (local.get $counts) (i32x4.extract_lane 3 (local.get $c))))
    (i32.store offset=12 (local.get $at) (i32.add (i32.load offset=12 (local.get $at)) (i32.const 1))))

  (func (export "quant") (param $p i32) (param $len i32) (param $c8p i32) (param $c4p i32) (param $step i32)
    (param $params i32) (param $acc i32) (param $counts i32)
    (local $end i32) (local $vend i32)
    (local $x v128) (local $xl v128) (local $xh v128) (local $q v128) (local $r v128) (local $el v128) (local $eh v128)
    (local $t8 v128) (local $t4 v128) (local $u8 v128) (local $z8 v128) (local $u4 v128) (local $z4 v128)
    (local $c8 v128) (local $c4 v128)
    (local $n0 v128) (local $n1 v128) (local $n2 v128) (local $n3 v128) (local $n4 v128) (local $n5 v128)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128)
    (local.set $t8 (v128.load offset=0 (local.get $params)))
    (local.set $t4 (v128.load offset=16 (local.get $params)))
    (local.set $u8 (v128.load offset=32 (local.get $params)))
    (local.set $z8 (v128.load offset=48 (local.get $params)))
    (local.set $u4 (v128.load offset=64 (local.get $params)))
    (local.set $z4 (v128.load offset=80 (local.get $params)))
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $len) (i32.const 2))))
    (local.set $vend (i32.add (local.get $p) (i32.shl (i32.and (local.get $len) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $vectors
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $x (v128.load (local.get $p)))
        ;; the last, partial vector: lanes past the end become 0
        (if (i32.ge_u (local.get $p) (local.get $vend))
          (then (local.set $x (v128.and (local.get $x)
            (v128.load offset=96 (i32.add (local.get $params) (i32.shl (i32.sub (local.get $end) (local.get $p)) (i32.const 2))))))))
        (local.set $xl (f64x2.promote_low_f32x4 (local.get $x)))
        (local.set $xh (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $x) (local.get $x))))
        (local.set $c8 (v128.load (local.get $c8p)))
        (local.set $c4 (v128.load (local.get $c4p)))

        ;; INT8 per tensor: symmetric, scale $t8, codes ±127
        (local.set $q (f32x4.nearest (f32x4.div (local.get $x) (local.get $t8))))
        (local.set $q (f32x4.pmin (f32x4.pmax (local.get $q) (v128.const f32x4 -127 -127 -127 -127)) (v128.const f32x4 127 127 127 127)))

        (local.set $r (f32x4.mul (local.get $q) (local.get $t8)))
        (local.set $el (f64x2.sub (local.get $xl) (f64x2.promote_low_f32x4 (local.get $r))))
        (local.set $eh (f64x2.sub (local.get $xh) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $r) (local.get $r)))))
        (local.set $n0 (f64x2.add (local.get $n0) (f64x2.add (f64x2.mul (local.get $el) (local.get $el)) (f64x2.mul (local.get $eh) (local.get $eh)))))
        (local.set $m0 (f64x2.pmax (local.get $m0) (f64x2.pmax (f64x2.abs (local.get $el)) (f64x2.abs (local.get $eh)))))
        ;; INT4 per tensor: symmetric, scale $t4, codes ±7
        (local.set $q (f32x4.nearest (f32x4.div (local.get $x) (local.get $t4))))
        (local.set $q (f32x4.pmin (f32x4.pmax (local.get $q) (v128.const f32x4 -7 -7 -7 -7)) (v128.const f32x4 7 7 7 7)))

        (local.set $r (f32x4.mul (local.get $q) (local.get $t4)))
        (local.set $el (f64x2.sub (local.get $xl) (f64x2.promote_low_f32x4 (local.get $r))))
        (local.set $eh (f64x2.sub (local.get $xh) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $r) (local.get $r)))))
        (local.set $n1 (f64x2.add (local.get $n1) (f64x2.add (f64x2.mul (local.get $el) (local.get $el)) (f64x2.mul (local.get $eh) (local.get $eh)))))
        (local.set $m1 (f64x2.pmax (local.get $m1) (f64x2.pmax (f64x2.abs (local.get $el)) (f64x2.abs (local.get $eh)))))
        ;; UINT8 per tensor: asymmetric, scale $u8, zero point $z8, codes 0..255
        (local.set $q (f32x4.add (f32x4.nearest (f32x4.div (local.get $x) (local.get $u8))) (local.get $z8)))
        (local.set $q (f32x4.pmin (f32x4.pmax (local.get $q) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 255 255 255 255)))
        (local.set $r (f32x4.mul (f32x4.sub (local.get $q) (local.get $z8)) (local.get $u8)))
        (local.set $el (f64x2.sub (local.get $xl) (f64x2.promote_low_f32x4 (local.get $r))))
        (local.set $eh (f64x2.sub (local.get $xh) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $r) (local.get $r)))))
        (local.set $n2 (f64x2.add (local.get $n2) (f64x2.add (f64x2.mul (local.get $el) (local.get $el)) (f64x2.mul (local.get $eh) (local.get $eh)))))
        ;; UINT4 per tensor: asymmetric, scale $u4, zero point $z4, codes 0..15
        (local.set $q (f32x4.add (f32x4.nearest (f32x4.div (local.get $x) (local.get $u4))) (local.get $z4)))
        (local.set $q (f32x4.pmin (f32x4.pmax (local.get $q) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 15 15 15 15)))
        (local.set $r (f32x4.mul (f32x4.sub (local.get $q) (local.get $z4)) (local.get $u4)))
        (local.set $el (f64x2.sub (local.get $xl) (f64x2.promote_low_f32x4 (local.get $r))))
        (local.set $eh (f64x2.sub (local.get $xh) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $r) (local.get $r)))))
        (local.set $n3 (f64x2.add (local.get $n3) (f64x2.add (f64x2.mul (local.get $el) (local.get $el)) (f64x2.mul (local.get $eh) (local.get $eh)))))
        ;; INT8 per channel: symmetric, scale $c8, codes ±127
        (local.set $q (f32x4.nearest (f32x4.div (local.get $x) (local.get $c8))))
        (local.set $q (f32x4.pmin (f32x4.pmax (local.get $q) (v128.const f32x4 -127 -127 -127 -127)) (v128.const f32x4 127 127 127 127)))
        (call $count (local.get $counts) (local.get $q))
        (local.set $r (f32x4.mul (local.get $q) (local.get $c8)))
        (local.set $el (f64x2.sub (local.get $xl) (f64x2.promote_low_f32x4 (local.get $r))))
        (local.set $eh (f64x2.sub (local.get $xh) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $r) (local.get $r)))))
        (local.set $n4 (f64x2.add (local.get $n4) (f64x2.add (f64x2.mul (local.get $el) (local.get $el)) (f64x2.mul (local.get $eh) (local.get $eh)))))
        (local.set $m2 (f64x2.pmax (local.get $m2) (f64x2.pmax (f64x2.abs (local.get $el)) (f64x2.abs (local.get $eh)))))
        ;; INT4 per channel: symmetric, scale $c4, codes ±7
        (local.set $q (f32x4.nearest (f32x4.div (local.get $x) (local.get $c4))))
        (local.set $q (f32x4.pmin (f32x4.pmax (local.get $q) (v128.const f32x4 -7 -7 -7 -7)) (v128.const f32x4 7 7 7 7)))

        (local.set $r (f32x4.mul (local.get $q) (local.get $c4)))
        (local.set $el (f64x2.sub (local.get $xl) (f64x2.promote_low_f32x4 (local.get $r))))
        (local.set $eh (f64x2.sub (local.get $xh) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $r) (local.get $r)))))
        (local.set $n5 (f64x2.add (local.get $n5) (f64x2.add (f64x2.mul (local.get $el) (local.get $el)) (f64x2.mul (local.get $eh) (local.get $eh)))))
        (local.set $m3 (f64x2.pmax (local.get $m3) (f64x2.pmax (f64x2.abs (local.get $el)) (f64x2.abs (local.get $eh)))))
        (local.set $c8p (i32.add (local.get $c8p) (local.get $step)))
        (local.set $c4p (i32.add (local.get $c4p) (local.get $step)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $vectors)))
    (f64.store offset=0 (local.get $acc) (f64.add (f64.load offset=0 (local.get $acc)) (f64.add (f64x2.extract_lane 0 (local.get $n0)) (f64x2.extract_lane 1 (local.get $n0)))))
    (f64.store offset=8 (local.get $acc) (f64.add (f64.load offset=8 (local.get $acc)) (f64.add (f64x2.extract_lane 0 (local.get $n1)) (f64x2.extract_lane 1 (local.get $n1)))))
    (f64.store offset=16 (local.get $acc) (f64.add (f64.load offset=16 (local.get $acc)) (f64.add (f64x2.extract_lane 0 (local.get $n2)) (f64x2.extract_lane 1 (local.get $n2)))))
    (f64.store offset=24 (local.get $acc) (f64.add (f64.load offset=24 (local.get $acc)) (f64.add (f64x2.extract_lane 0 (local.get $n3)) (f64x2.extract_lane 1 (local.get $n3)))))
    (f64.store offset=32 (local.get $acc) (f64.add (f64.load offset=32 (local.get $acc)) (f64.add (f64x2.extract_lane 0 (local.get $n4)) (f64x2.extract_lane 1 (local.get $n4)))))
    (f64.store offset=40 (local.get $acc) (f64.add (f64.load offset=40 (local.get $acc)) (f64.add (f64x2.extract_lane 0 (local.get $n5)) (f64x2.extract_lane 1 (local.get $n5)))))
    (f64.store offset=48 (local.get $acc) (f64.max (f64.load offset=48 (local.get $acc)) (f64.max (f64x2.extract_lane 0 (local.get $m0)) (f64x2.extract_lane 1 (local.get $m0)))))
    (f64.store offset=56 (local.get $acc) (f64.max (f64.load offset=56 (local.get $acc)) (f64.max (f64x2.extract_lane 0 (local.get $m1)) (f64x2.extract_lane 1 (local.get $m1)))))
    (f64.store offset=64 (local.get $acc) (f64.max (f64.load offset=64 (local.get $acc)) (f64.max (f64x2.extract_lane 0 (local.get $m2)) (f64x2.extract_lane 1 (local.get $m2)))))
    (f64.store offset=72 (local.get $acc) (f64.max (f64.load offset=72 (local.get $acc)) (f64.max (f64x2.extract_lane 0 (local.get $m3)) (f64x2.extract_lane 1 (local.get $m3)))))
  )
)
