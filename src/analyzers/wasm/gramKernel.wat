;; The Gram matrix G += A·Aᵀ of a panel of A, in WebAssembly with 128-bit SIMD: the low-rank
;; figures' O(n²·k) step, which V8 runs as scalar float64 code in JavaScript. The JavaScript side
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

  ;; g[0] += lanes of c0 summed, g[1] += lanes of c1 summed (one vector add of the two pair sums).
  (func $add2 (param $out i32) (param $c0 v128) (param $c1 v128)
    (v128.store (local.get $out)
      (f64x2.add (v128.load (local.get $out))
        (f64x2.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $c0) (local.get $c1))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $c0) (local.get $c1)))))))
