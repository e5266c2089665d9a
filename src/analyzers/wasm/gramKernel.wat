;; The O(n²) loops of the Householder reduction of the Gram matrix (lowRank.ts's tridiagonalization),
;; in WebAssembly with 128-bit SIMD, on the float64 matrix gramKernel.ts leaves in this module's
;; memory (the Gram matrix itself comes from gemmKernel.wat's float32 multiply).
(module
  (memory (export "memory") 1)

  ;; The two O(n²) loops of one Householder step of lowRank.ts's tridiagonalization, on the n × n
  ;; float64 matrix at a (row-major), with u = row i of a and the float64 vector e:
  ;; symv(a, n, i, l, e):  e[j] += Σ_{k ≤ l} A[j][k]·u[k] for j ≤ l, reading only the lower
  ;;                       triangle, row by row (A[j][k] for k < j adds to e[j] and e[k]).
  (func (export "symv") (param $a i32) (param $n i32) (param $i i32) (param $l i32) (param $e i32)
    (local $u i32) (local $row i32) (local $j i32) (local $k i32) (local $end i32)
    (local $acc v128) (local $ujv v128) (local $av v128) (local $uj f64) (local $s f64) (local $tail f64)
    (local.set $u (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i) (local.get $n)) (i32.const 3))))
    (local.set $j (i32.const 0))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.gt_u (local.get $j) (local.get $l)))
        (local.set $row (i32.add (local.get $a) (i32.shl (i32.mul (local.get $j) (local.get $n)) (i32.const 3))))
        (local.set $uj (f64.load (i32.add (local.get $u) (i32.shl (local.get $j) (i32.const 3)))))
        (local.set $ujv (f64x2.splat (local.get $uj)))
        (local.set $acc (v128.const i64x2 0 0))
        (local.set $end (i32.shl (i32.and (local.get $j) (i32.const -2)) (i32.const 3)))
        (local.set $k (i32.const 0))
        (block $pairsDone
          (loop $pairs
            (br_if $pairsDone (i32.ge_u (local.get $k) (local.get $end)))
            (local.set $av (v128.load (i32.add (local.get $row) (local.get $k))))
            (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (local.get $av) (v128.load (i32.add (local.get $u) (local.get $k))))))
            (v128.store (i32.add (local.get $e) (local.get $k))
              (f64x2.add (v128.load (i32.add (local.get $e) (local.get $k))) (f64x2.mul (local.get $av) (local.get $ujv))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $pairs)))
        (local.set $tail (f64.const 0))
        (if (i32.and (local.get $j) (i32.const 1))
          (then
            (local.set $s (f64.load (i32.add (local.get $row) (local.get $k))))
            (local.set $tail (f64.mul (local.get $s) (f64.load (i32.add (local.get $u) (local.get $k)))))
            (f64.store (i32.add (local.get $e) (local.get $k))
              (f64.add (f64.load (i32.add (local.get $e) (local.get $k))) (f64.mul (local.get $s) (local.get $uj))))))
        (local.set $k (i32.shl (local.get $j) (i32.const 3)))
        (f64.store (i32.add (local.get $e) (local.get $k))
          (f64.add (f64.load (i32.add (local.get $e) (local.get $k)))
            (f64.add (f64.mul (f64.load (i32.add (local.get $row) (local.get $k))) (local.get $uj))
              (f64.add (local.get $tail)
                (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc)))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $rows))))

  ;; rank2(a, n, i, l, e): A[j][k] -= u[j]·e[k] + e[j]·u[k] for k ≤ j ≤ l (the lower triangle),
  ;; each element computed as the JavaScript does, so the result is the same to the bit.
  (func (export "rank2") (param $a i32) (param $n i32) (param $i i32) (param $l i32) (param $e i32)
    (local $u i32) (local $row i32) (local $j i32) (local $k i32) (local $end i32) (local $at i32)
    (local $fj f64) (local $gj f64) (local $fv v128) (local $gv v128)
    (local.set $u (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i) (local.get $n)) (i32.const 3))))
    (local.set $j (i32.const 0))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.gt_u (local.get $j) (local.get $l)))
        (local.set $row (i32.add (local.get $a) (i32.shl (i32.mul (local.get $j) (local.get $n)) (i32.const 3))))
        (local.set $fj (f64.load (i32.add (local.get $u) (i32.shl (local.get $j) (i32.const 3)))))
        (local.set $gj (f64.load (i32.add (local.get $e) (i32.shl (local.get $j) (i32.const 3)))))
        (local.set $fv (f64x2.splat (local.get $fj)))
        (local.set $gv (f64x2.splat (local.get $gj)))
        ;; k = 0 ..= j: (j + 1) values, pairs first
        (local.set $end (i32.shl (i32.and (i32.add (local.get $j) (i32.const 1)) (i32.const -2)) (i32.const 3)))
        (local.set $k (i32.const 0))
        (block $pairsDone
          (loop $pairs
            (br_if $pairsDone (i32.ge_u (local.get $k) (local.get $end)))
            (local.set $at (i32.add (local.get $row) (local.get $k)))
            (v128.store (local.get $at)
              (f64x2.sub (v128.load (local.get $at))
                (f64x2.add (f64x2.mul (local.get $fv) (v128.load (i32.add (local.get $e) (local.get $k))))
                           (f64x2.mul (local.get $gv) (v128.load (i32.add (local.get $u) (local.get $k)))))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $pairs)))
        (if (i32.eqz (i32.and (local.get $j) (i32.const 1)))
          (then
            (local.set $at (i32.add (local.get $row) (local.get $k)))
            (f64.store (local.get $at)
              (f64.sub (f64.load (local.get $at))
                (f64.add (f64.mul (local.get $fj) (f64.load (i32.add (local.get $e) (local.get $k))))
                         (f64.mul (local.get $gj) (f64.load (i32.add (local.get $u) (local.get $k)))))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $rows)))))
