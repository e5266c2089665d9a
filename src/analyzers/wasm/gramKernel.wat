;; The Gram matrix G += A·Aᵀ of a panel of A, and the O(n²) loops of the Householder reduction
;; that follows, in WebAssembly with 128-bit SIMD: the low-rank figures' O(n²·k) and O(n³) steps,
;; which V8 runs as scalar float64 code in JavaScript. The JavaScript side
;; (gramKernel.ts) widens each panel of the float32 weight into float64 here, so every product of
;; two float32 values is exact and the sums are float64's, as in the JavaScript reference.
;;
;; syrk(a, n, k, g): a is n × k float64, row-major (n a multiple of 4, k of 2, padding rows and
;;                   columns zero); g is n × n float64, row-major. Adds Σₜ a[i][t]·a[j][t] to g[i][j]
;;                   for every j < i + 4 - (i mod 4) (the lower triangle, and the upper half of
;;                   each 4×4 diagonal tile, which equals its mirror exactly).
;; Register tiling: 4 rows of i × 2 rows of j, 8 accumulators of two lanes each; one value of
;; row i is loaded at a time and used against both j rows (11 vectors live, within x64's 16).
(module
  (memory (export "memory") 1)

  (func (export "syrk") (param $a i32) (param $n i32) (param $k i32) (param $g i32)
    (local $rs i32) (local $i i32) (local $j i32) (local $o i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $q0 i32) (local $q1 i32)
    (local $x v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $out i32)
    (local.set $rs (i32.shl (local.get $k) (i32.const 3)))
    (local.set $i (i32.const 0))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $p0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rs))))
        (local.set $p1 (i32.add (local.get $p0) (local.get $rs)))
        (local.set $p2 (i32.add (local.get $p1) (local.get $rs)))
        (local.set $p3 (i32.add (local.get $p2) (local.get $rs)))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u (local.get $j) (i32.add (local.get $i) (i32.const 4))))
            (local.set $q0 (i32.add (local.get $a) (i32.mul (local.get $j) (local.get $rs))))
            (local.set $q1 (i32.add (local.get $q0) (local.get $rs)))
            (local.set $c00 (v128.const i64x2 0 0))
            (local.set $c01 (v128.const i64x2 0 0))
            (local.set $c10 (v128.const i64x2 0 0))
            (local.set $c11 (v128.const i64x2 0 0))
            (local.set $c20 (v128.const i64x2 0 0))
            (local.set $c21 (v128.const i64x2 0 0))
            (local.set $c30 (v128.const i64x2 0 0))
            (local.set $c31 (v128.const i64x2 0 0))
            (local.set $o (i32.const 0))
            (block $dotDone
              (loop $dot
                (br_if $dotDone (i32.ge_u (local.get $o) (local.get $rs)))
                (local.set $b0 (v128.load (i32.add (local.get $q0) (local.get $o))))
                (local.set $b1 (v128.load (i32.add (local.get $q1) (local.get $o))))
                (local.set $x (v128.load (i32.add (local.get $p0) (local.get $o))))
                (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $x) (local.get $b0))))
                (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x) (local.get $b1))))
                (local.set $x (v128.load (i32.add (local.get $p1) (local.get $o))))
                (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $x) (local.get $b0))))
                (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $x) (local.get $b1))))
                (local.set $x (v128.load (i32.add (local.get $p2) (local.get $o))))
                (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $x) (local.get $b0))))
                (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $x) (local.get $b1))))
                (local.set $x (v128.load (i32.add (local.get $p3) (local.get $o))))
                (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $x) (local.get $b0))))
                (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $x) (local.get $b1))))
                (local.set $o (i32.add (local.get $o) (i32.const 16)))
                (br $dot)))
            ;; g[i + r][j + c] += the two lanes of c_rc
            (local.set $out (i32.add (local.get $g) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 3))))
            (call $add2 (local.get $out) (local.get $c00) (local.get $c01))
            (local.set $out (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 3))))
            (call $add2 (local.get $out) (local.get $c10) (local.get $c11))
            (local.set $out (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 3))))
            (call $add2 (local.get $out) (local.get $c20) (local.get $c21))
            (local.set $out (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 3))))
            (call $add2 (local.get $out) (local.get $c30) (local.get $c31))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $cols)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rows))))

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
        (br $rows))))

  ;; g[0] += lanes of c0 summed, g[1] += lanes of c1 summed (one vector add of the two pair sums).
  (func $add2 (param $out i32) (param $c0 v128) (param $c1 v128)
    (v128.store (local.get $out)
      (f64x2.add (v128.load (local.get $out))
        (f64x2.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $c0) (local.get $c1))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $c0) (local.get $c1)))))))
