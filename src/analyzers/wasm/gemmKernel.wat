;; Matrix multiply C += A·B in WebAssembly with 128-bit SIMD, float32 (f32x4) and float64 (f64x2):
;; the products under the Gram matrix, GPTQ's lazy updates and the blocked Cholesky. Scalar
;; JavaScript reaches ~1 GFLOP/s on these; a register-tiled, cache-blocked loop reaches what
;; SIMD128 allows (see bench/gramBench.ts for the ceiling of a register-only loop on this CPU).
;;
;; The build also assembles a second copy in which every `(fNxM.add (local.get $c) (fNxM.mul x y))`
;; becomes `(fNxM.relaxed_madd x y (local.get $c))` (fused multiply-add, relaxed SIMD); the
;; JavaScript side (gemmKernel.ts) picks it where the engine validates it.
;;
;; Memory bytes 0 … 255 are this module's scratch (an edge tile); callers place matrices above.
;;
;; gemm(shift, m, n, k, a, ars, acs, b, brs, bcs, c, ldc, alpha, beta, below, pa, pb, mcMax, kcMax, ncMax)
;;   shift 2: float32, 3: float64. Logical A[i][p] = a[i·ars + p·acs], B[p][j] = b[p·brs + j·bcs]
;;   (element strides, so either operand may be transposed); C row-major with ldc elements a row.
;;   C[i][j] += Σₚ (alpha·A[i][p])·(beta·B[p][j]), alpha and beta ±1 or powers of two (exact
;;   scalings: a Gram scales its float32 values into range before their products). With below ≥ 0
;;   only the micro-tiles holding some C[i][j] with j ≤ i + below are computed (0: a symmetric
;;   product's lower triangle, plus the upper part of the tiles across the diagonal). pa and pb are packing buffers: mcMax·kcMax and
;;   kcMax·ncMax elements, mcMax a multiple of 6 and ncMax of the micro-tile's width.
;; Micro-tiles: float32 6 rows × 8 columns (12 f32x4 accumulators), float64 6 × 4 (12 f64x2); A
;; is packed in panels of 6 rows (6 values per p), B in panels of 8 or 4 columns, zero-padded.
(module
  (memory (export "memory") 1)

  ;; Panels of w rows of X[i][p] = src[i·rs + p·cs] (i < rows, p < cols): for each panel, for each
  ;; p, its w values (0 past the last row), times factor (±1, or a power of two). Float32.
  (func $pack32 (param $dst i32) (param $src i32) (param $rs i32) (param $cs i32) (param $rows i32) (param $cols i32) (param $w i32) (param $factor f32)
    (local $q i32) (local $p i32) (local $r i32) (local $at i32) (local $v f32) (local $rsb i32) (local $csb i32)
    (local.set $rsb (i32.shl (local.get $rs) (i32.const 2)))
    (local.set $csb (i32.shl (local.get $cs) (i32.const 2)))
    (local.set $q (i32.const 0))
    (block $panelsDone
      (loop $panels
        (br_if $panelsDone (i32.ge_u (local.get $q) (local.get $rows)))
        (local.set $p (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u (local.get $p) (local.get $cols)))
            (local.set $at (i32.add (local.get $src) (i32.add (i32.mul (local.get $p) (local.get $csb)) (i32.mul (local.get $q) (local.get $rsb)))))
            (local.set $r (i32.const 0))
            (block $rowsDone
              (loop $rowsLoop
                (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $w)))
                (local.set $v (f32.const 0))
                (if (i32.lt_u (i32.add (local.get $q) (local.get $r)) (local.get $rows))
                  (then (local.set $v (f32.load (local.get $at)))))
                (f32.store (local.get $dst) (f32.mul (local.get $v) (local.get $factor)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
                (local.set $at (i32.add (local.get $at) (local.get $rsb)))
                (local.set $r (i32.add (local.get $r) (i32.const 1)))
                (br $rowsLoop)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $cols)))
        (local.set $q (i32.add (local.get $q) (local.get $w)))
        (br $panels))))

  ;; The same for float64.
  (func $pack64 (param $dst i32) (param $src i32) (param $rs i32) (param $cs i32) (param $rows i32) (param $cols i32) (param $w i32) (param $factor f64)
    (local $q i32) (local $p i32) (local $r i32) (local $at i32) (local $v f64) (local $rsb i32) (local $csb i32)
    (local.set $rsb (i32.shl (local.get $rs) (i32.const 3)))
    (local.set $csb (i32.shl (local.get $cs) (i32.const 3)))
    (local.set $q (i32.const 0))
    (block $panelsDone
      (loop $panels
        (br_if $panelsDone (i32.ge_u (local.get $q) (local.get $rows)))
        (local.set $p (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u (local.get $p) (local.get $cols)))
            (local.set $at (i32.add (local.get $src) (i32.add (i32.mul (local.get $p) (local.get $csb)) (i32.mul (local.get $q) (local.get $rsb)))))
            (local.set $r (i32.const 0))
            (block $rowsDone
              (loop $rowsLoop
                (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $w)))
                (local.set $v (f64.const 0))
                (if (i32.lt_u (i32.add (local.get $q) (local.get $r)) (local.get $rows))
                  (then (local.set $v (f64.load (local.get $at)))))
                (f64.store (local.get $dst) (f64.mul (local.get $v) (local.get $factor)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
                (local.set $at (i32.add (local.get $at) (local.get $rsb)))
                (local.set $r (i32.add (local.get $r) (i32.const 1)))
                (br $rowsLoop)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $cols)))
        (local.set $q (i32.add (local.get $q) (local.get $w)))
        (br $panels))))

  ;; C[0:mr][0:nr] += the 6 × 8 float32 product of a packed A panel (6 values per p) and a
  ;; packed B panel (8 values per p) over kc steps; ldc in elements. 12 accumulators: with 2 B
  ;; vectors and an A splat, 15 of x64's 16 vector registers (fused multiply-adds need about 12
  ;; independent sums in flight to fill both FMA units).
  (func $tile32 (param $kc i32) (param $a i32) (param $b i32) (param $c i32) (param $ldc i32) (param $mr i32) (param $nr i32)
    (local $end i32) (local $x v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128) (local $c40 v128) (local $c41 v128) (local $c50 v128) (local $c51 v128)
    (local $ldb i32) (local $r i32) (local $j i32) (local $at i32)
    (local.set $end (i32.add (local.get $a) (i32.mul (local.get $kc) (i32.const 24))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $steps
        (local.set $b0 (v128.load (local.get $b)))
        (local.set $b1 (v128.load offset=16 (local.get $b)))
        (local.set $x (v128.load32_splat (local.get $a)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=4 (local.get $a)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=8 (local.get $a)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=12 (local.get $a)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=16 (local.get $a)))
        (local.set $c40 (f32x4.add (local.get $c40) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c41 (f32x4.add (local.get $c41) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=20 (local.get $a)))
        (local.set $c50 (f32x4.add (local.get $c50) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c51 (f32x4.add (local.get $c51) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $a (i32.add (local.get $a) (i32.const 24)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (br_if $steps (i32.lt_u (local.get $a) (local.get $end)))))
    (local.set $ldb (i32.shl (local.get $ldc) (i32.const 2)))
    (if (i32.and (i32.eq (local.get $mr) (i32.const 6)) (i32.eq (local.get $nr) (i32.const 8)))
      (then
        (local.set $at (local.get $c))
        (v128.store (local.get $at) (f32x4.add (v128.load (local.get $at)) (local.get $c00)))
        (v128.store offset=16 (local.get $at) (f32x4.add (v128.load offset=16 (local.get $at)) (local.get $c01)))
        (local.set $at (i32.add (local.get $at) (local.get $ldb)))
        (v128.store (local.get $at) (f32x4.add (v128.load (local.get $at)) (local.get $c10)))
        (v128.store offset=16 (local.get $at) (f32x4.add (v128.load offset=16 (local.get $at)) (local.get $c11)))
        (local.set $at (i32.add (local.get $at) (local.get $ldb)))
        (v128.store (local.get $at) (f32x4.add (v128.load (local.get $at)) (local.get $c20)))
        (v128.store offset=16 (local.get $at) (f32x4.add (v128.load offset=16 (local.get $at)) (local.get $c21)))
        (local.set $at (i32.add (local.get $at) (local.get $ldb)))
        (v128.store (local.get $at) (f32x4.add (v128.load (local.get $at)) (local.get $c30)))
        (v128.store offset=16 (local.get $at) (f32x4.add (v128.load offset=16 (local.get $at)) (local.get $c31)))
        (local.set $at (i32.add (local.get $at) (local.get $ldb)))
        (v128.store (local.get $at) (f32x4.add (v128.load (local.get $at)) (local.get $c40)))
        (v128.store offset=16 (local.get $at) (f32x4.add (v128.load offset=16 (local.get $at)) (local.get $c41)))
        (local.set $at (i32.add (local.get $at) (local.get $ldb)))
        (v128.store (local.get $at) (f32x4.add (v128.load (local.get $at)) (local.get $c50)))
        (v128.store offset=16 (local.get $at) (f32x4.add (v128.load offset=16 (local.get $at)) (local.get $c51))))
      (else
        ;; An edge tile: through the scratch tile (row r at 32·r), only its mr × nr corner added.
        (v128.store (i32.const 0) (local.get $c00))
        (v128.store (i32.const 16) (local.get $c01))
        (v128.store (i32.const 32) (local.get $c10))
        (v128.store (i32.const 48) (local.get $c11))
        (v128.store (i32.const 64) (local.get $c20))
        (v128.store (i32.const 80) (local.get $c21))
        (v128.store (i32.const 96) (local.get $c30))
        (v128.store (i32.const 112) (local.get $c31))
        (v128.store (i32.const 128) (local.get $c40))
        (v128.store (i32.const 144) (local.get $c41))
        (v128.store (i32.const 160) (local.get $c50))
        (v128.store (i32.const 176) (local.get $c51))
        (local.set $r (i32.const 0))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $mr)))
            (local.set $j (i32.const 0))
            (block $colsDone
              (loop $cols
                (br_if $colsDone (i32.ge_u (local.get $j) (local.get $nr)))
                (local.set $at (i32.add (i32.add (local.get $c) (i32.mul (local.get $r) (local.get $ldb))) (i32.shl (local.get $j) (i32.const 2))))
                (f32.store (local.get $at)
                  (f32.add (f32.load (local.get $at))
                    (f32.load (i32.add (i32.shl (local.get $r) (i32.const 5)) (i32.shl (local.get $j) (i32.const 2))))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $cols)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rows))))))

  ;; The float64 micro-tile: 6 × 4 (A panel 6 values per p, B panel 4 values per p).
  (func $tile64 (param $kc i32) (param $a i32) (param $b i32) (param $c i32) (param $ldc i32) (param $mr i32) (param $nr i32)
    (local $end i32) (local $x v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128) (local $c40 v128) (local $c41 v128) (local $c50 v128) (local $c51 v128)
    (local $ldb i32) (local $r i32) (local $j i32) (local $at i32)
    (local.set $end (i32.add (local.get $a) (i32.mul (local.get $kc) (i32.const 48))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $steps
        (local.set $b0 (v128.load (local.get $b)))
        (local.set $b1 (v128.load offset=16 (local.get $b)))
        (local.set $x (v128.load64_splat (local.get $a)))
        (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=8 (local.get $a)))
        (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=16 (local.get $a)))
        (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=24 (local.get $a)))
        (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=32 (local.get $a)))
        (local.set $c40 (f64x2.add (local.get $c40) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c41 (f64x2.add (local.get $c41) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=40 (local.get $a)))
        (local.set $c50 (f64x2.add (local.get $c50) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c51 (f64x2.add (local.get $c51) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $a (i32.add (local.get $a) (i32.const 48)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (br_if $steps (i32.lt_u (local.get $a) (local.get $end)))))
    (local.set $ldb (i32.shl (local.get $ldc) (i32.const 3)))
    (if (i32.and (i32.eq (local.get $mr) (i32.const 6)) (i32.eq (local.get $nr) (i32.const 4)))
      (then
        (local.set $at (local.get $c))
        (v128.store (local.get $at) (f64x2.add (v128.load (local.get $at)) (local.get $c00)))
        (v128.store offset=16 (local.get $at) (f64x2.add (v128.load offset=16 (local.get $at)) (local.get $c01)))
        (local.set $at (i32.add (local.get $at) (local.get $ldb)))
        (v128.store (local.get $at) (f64x2.add (v128.load (local.get $at)) (local.get $c10)))
        (v128.store offset=16 (local.get $at) (f64x2.add (v128.load offset=16 (local.get $at)) (local.get $c11)))
        (local.set $at (i32.add (local.get $at) (local.get $ldb)))
        (v128.store (local.get $at) (f64x2.add (v128.load (local.get $at)) (local.get $c20)))
        (v128.store offset=16 (local.get $at) (f64x2.add (v128.load offset=16 (local.get $at)) (local.get $c21)))
        (local.set $at (i32.add (local.get $at) (local.get $ldb)))
        (v128.store (local.get $at) (f64x2.add (v128.load (local.get $at)) (local.get $c30)))
        (v128.store offset=16 (local.get $at) (f64x2.add (v128.load offset=16 (local.get $at)) (local.get $c31)))
        (local.set $at (i32.add (local.get $at) (local.get $ldb)))
        (v128.store (local.get $at) (f64x2.add (v128.load (local.get $at)) (local.get $c40)))
        (v128.store offset=16 (local.get $at) (f64x2.add (v128.load offset=16 (local.get $at)) (local.get $c41)))
        (local.set $at (i32.add (local.get $at) (local.get $ldb)))
        (v128.store (local.get $at) (f64x2.add (v128.load (local.get $at)) (local.get $c50)))
        (v128.store offset=16 (local.get $at) (f64x2.add (v128.load offset=16 (local.get $at)) (local.get $c51))))
      (else
        (v128.store (i32.const 0) (local.get $c00))
        (v128.store (i32.const 16) (local.get $c01))
        (v128.store (i32.const 32) (local.get $c10))
        (v128.store (i32.const 48) (local.get $c11))
        (v128.store (i32.const 64) (local.get $c20))
        (v128.store (i32.const 80) (local.get $c21))
        (v128.store (i32.const 96) (local.get $c30))
        (v128.store (i32.const 112) (local.get $c31))
        (v128.store (i32.const 128) (local.get $c40))
        (v128.store (i32.const 144) (local.get $c41))
        (v128.store (i32.const 160) (local.get $c50))
        (v128.store (i32.const 176) (local.get $c51))
        (local.set $r (i32.const 0))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $mr)))
            (local.set $j (i32.const 0))
            (block $colsDone
              (loop $cols
                (br_if $colsDone (i32.ge_u (local.get $j) (local.get $nr)))
                (local.set $at (i32.add (i32.add (local.get $c) (i32.mul (local.get $r) (local.get $ldb))) (i32.shl (local.get $j) (i32.const 3))))
                (f64.store (local.get $at)
                  (f64.add (f64.load (local.get $at))
                    (f64.load (i32.add (i32.shl (local.get $r) (i32.const 5)) (i32.shl (local.get $j) (i32.const 3))))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $cols)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rows))))))

  (func (export "gemm")
    (param $shift i32) (param $m i32) (param $n i32) (param $k i32)
    (param $a i32) (param $ars i32) (param $acs i32) (param $b i32) (param $brs i32) (param $bcs i32)
    (param $c i32) (param $ldc i32) (param $alpha f64) (param $beta f64) (param $below i32)
    (param $pa i32) (param $pb i32) (param $mcMax i32) (param $kcMax i32) (param $ncMax i32)
    (local $nrMax i32) (local $jc i32) (local $pc i32) (local $ic i32) (local $jr i32) (local $ir i32)
    (local $nc i32) (local $kc i32) (local $mc i32) (local $mr i32) (local $nr i32)
    (local $src i32) (local $tileA i32) (local $tileB i32) (local $tileC i32)
    (local.set $nrMax (select (i32.const 8) (i32.const 4) (i32.eq (local.get $shift) (i32.const 2))))
    (local.set $jc (i32.const 0))
    (block $jcDone
      (loop $jcLoop
        (br_if $jcDone (i32.ge_u (local.get $jc) (local.get $n)))
        (local.set $nc (i32.sub (local.get $n) (local.get $jc)))
        (if (i32.gt_u (local.get $nc) (local.get $ncMax)) (then (local.set $nc (local.get $ncMax))))
        (local.set $pc (i32.const 0))
        (block $pcDone
          (loop $pcLoop
            (br_if $pcDone (i32.ge_u (local.get $pc) (local.get $k)))
            (local.set $kc (i32.sub (local.get $k) (local.get $pc)))
            (if (i32.gt_u (local.get $kc) (local.get $kcMax)) (then (local.set $kc (local.get $kcMax))))
            ;; B's panel as X[j][p] = B[pc + p][jc + j]
            (local.set $src (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $pc) (local.get $brs)) (i32.mul (local.get $jc) (local.get $bcs))) (local.get $shift))))
            (if (i32.eq (local.get $shift) (i32.const 2))
              (then (call $pack32 (local.get $pb) (local.get $src) (local.get $bcs) (local.get $brs) (local.get $nc) (local.get $kc) (i32.const 8) (f32.demote_f64 (local.get $beta))))
              (else (call $pack64 (local.get $pb) (local.get $src) (local.get $bcs) (local.get $brs) (local.get $nc) (local.get $kc) (i32.const 4) (local.get $beta))))
            (local.set $ic (i32.const 0))
            (block $icDone
              (loop $icLoop
                (br_if $icDone (i32.ge_u (local.get $ic) (local.get $m)))
                (local.set $mc (i32.sub (local.get $m) (local.get $ic)))
                (if (i32.gt_u (local.get $mc) (local.get $mcMax)) (then (local.set $mc (local.get $mcMax))))
                ;; the whole block above the diagonal: nothing to do
                (if (i32.eqz (i32.and (i32.ge_s (local.get $below) (i32.const 0)) (i32.ge_u (local.get $jc) (i32.add (i32.add (local.get $ic) (local.get $mc)) (local.get $below)))))
                  (then
                    (local.set $src (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $ic) (local.get $ars)) (i32.mul (local.get $pc) (local.get $acs))) (local.get $shift))))
                    (if (i32.eq (local.get $shift) (i32.const 2))
                      (then (call $pack32 (local.get $pa) (local.get $src) (local.get $ars) (local.get $acs) (local.get $mc) (local.get $kc) (i32.const 6) (f32.demote_f64 (local.get $alpha))))
                      (else (call $pack64 (local.get $pa) (local.get $src) (local.get $ars) (local.get $acs) (local.get $mc) (local.get $kc) (i32.const 6) (local.get $alpha))))
                    (local.set $jr (i32.const 0))
                    (block $jrDone
                      (loop $jrLoop
                        (br_if $jrDone (i32.ge_u (local.get $jr) (local.get $nc)))
                        (local.set $nr (i32.sub (local.get $nc) (local.get $jr)))
                        (if (i32.gt_u (local.get $nr) (local.get $nrMax)) (then (local.set $nr (local.get $nrMax))))
                        (local.set $tileB (i32.add (local.get $pb) (i32.shl (i32.mul (local.get $jr) (local.get $kc)) (local.get $shift))))
                        (local.set $ir (i32.const 0))
                        (block $irDone
                          (loop $irLoop
                            (br_if $irDone (i32.ge_u (local.get $ir) (local.get $mc)))
                            (local.set $mr (i32.sub (local.get $mc) (local.get $ir)))
                            (if (i32.gt_u (local.get $mr) (i32.const 6)) (then (local.set $mr (i32.const 6))))
                            (if (i32.eqz (i32.and (i32.ge_s (local.get $below) (i32.const 0))
                                  (i32.ge_u (i32.add (local.get $jc) (local.get $jr)) (i32.add (i32.add (i32.add (local.get $ic) (local.get $ir)) (local.get $mr)) (local.get $below)))))
                              (then
                                (local.set $tileA (i32.add (local.get $pa) (i32.shl (i32.mul (local.get $ir) (local.get $kc)) (local.get $shift))))
                                (local.set $tileC (i32.add (local.get $c)
                                  (i32.shl (i32.add (i32.mul (i32.add (local.get $ic) (local.get $ir)) (local.get $ldc)) (i32.add (local.get $jc) (local.get $jr))) (local.get $shift))))
                                (if (i32.eq (local.get $shift) (i32.const 2))
                                  (then (call $tile32 (local.get $kc) (local.get $tileA) (local.get $tileB) (local.get $tileC) (local.get $ldc) (local.get $mr) (local.get $nr)))
                                  (else (call $tile64 (local.get $kc) (local.get $tileA) (local.get $tileB) (local.get $tileC) (local.get $ldc) (local.get $mr) (local.get $nr))))))
                            (local.set $ir (i32.add (local.get $ir) (i32.const 6)))
                            (br $irLoop)))
                        (local.set $jr (i32.add (local.get $jr) (local.get $nrMax)))
                        (br $jrLoop)))))
                (local.set $ic (i32.add (local.get $ic) (local.get $mc)))
                (br $icLoop)))
            (local.set $pc (i32.add (local.get $pc) (local.get $kc)))
            (br $pcLoop)))
        (local.set $jc (i32.add (local.get $jc) (local.get $nc)))
        (br $jcLoop))))

  ;; g[t] += c[t] for t < count: float32 block sums added into float64 totals (the Gram's K-blocks).
  (func (export "widenAdd") (param $c i32) (param $g i32) (param $count i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $c) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $values
        (br_if $done (i32.ge_u (i32.add (local.get $c) (i32.const 8)) (i32.add (local.get $end) (i32.const 1))))
        (v128.store (local.get $g) (f64x2.add (v128.load (local.get $g)) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $c)))))
        (local.set $c (i32.add (local.get $c) (i32.const 8)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (br $values)))
    (if (i32.lt_u (local.get $c) (local.get $end))
      (then (f64.store (local.get $g) (f64.add (f64.load (local.get $g)) (f64.promote_f32 (f32.load (local.get $c))))))))

  ;; The ceiling of this loop style: steps of the float32 micro-tile's arithmetic (12 vector
  ;; multiply-adds) on registers only (no loads), the accumulators summed so nothing is optimized away.
  (func (export "peak32") (param $steps i32) (result f32)
    (local $x v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128) (local $c40 v128) (local $c41 v128) (local $c50 v128) (local $c51 v128)
    (local.set $x (f32x4.splat (f32.const 1.0000001)))
    (local.set $b0 (f32x4.splat (f32.const 0.9999999)))
    (local.set $b1 (f32x4.splat (f32.const 1.0000002)))
    (block $done
      (loop $loop
        (br_if $done (i32.eqz (local.get $steps)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $b0) (local.get $b1))))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $b1) (local.get $x))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $b0) (local.get $b1))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $b1) (local.get $x))))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $b0) (local.get $b1))))
        (local.set $c40 (f32x4.add (local.get $c40) (f32x4.mul (local.get $b1) (local.get $x))))
        (local.set $c41 (f32x4.add (local.get $c41) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c50 (f32x4.add (local.get $c50) (f32x4.mul (local.get $b0) (local.get $b1))))
        (local.set $c51 (f32x4.add (local.get $c51) (f32x4.mul (local.get $b1) (local.get $x))))
        (local.set $steps (i32.sub (local.get $steps) (i32.const 1)))
        (br $loop)))
    (f32x4.extract_lane 0 (f32x4.add (f32x4.add (f32x4.add (f32x4.add (f32x4.add (f32x4.add (f32x4.add (f32x4.add (f32x4.add (f32x4.add (f32x4.add (local.get $c00) (local.get $c01)) (local.get $c10)) (local.get $c11)) (local.get $c20)) (local.get $c21)) (local.get $c30)) (local.get $c31)) (local.get $c40)) (local.get $c41)) (local.get $c50)) (local.get $c51)))))
