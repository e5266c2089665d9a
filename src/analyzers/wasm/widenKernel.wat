;; FLOAT16 and BFLOAT16 codes widened to float32 in a kernel's memory (imported): the statistics
;; kernel widens a chunk of a tensor with it (statsKernel.ts), the quantize kernel a weight it
;; quantizes (quantizeKernel.ts), each instantiating this module on its own memory.
(module
  (import "env" "memory" (memory 1))

  ;; widen16(src, dst, n, brain): n little-endian 16-bit codes at src become float32 at dst, FLOAT16
  ;; (brain = 0) or BFLOAT16 (brain = 1), exactly: a half's exponent and mantissa shifted into a
  ;; float32's low exponent bits times 2^112 is its value (denormals too, since WebAssembly keeps
  ;; float32 denormals); exponent 31 is Inf or NaN with the mantissa kept. src may be dst + 2n
  ;; (widening in place: each step reads its 16 bytes before writing 32 below the unread ones).
  (func $half (param $codes v128) (result v128)
    (local $em v128) (local $shifted v128)
    (local.set $em (v128.and (local.get $codes) (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff)))
    (local.set $shifted (i32x4.shl (local.get $em) (i32.const 13)))
    (v128.or
      (v128.bitselect
        (v128.or (local.get $shifted) (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000))
        (f32x4.mul (local.get $shifted) (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))
        (i32x4.ge_u (local.get $em) (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00)))
      (i32x4.shl (v128.and (local.get $codes) (v128.const i32x4 0x8000 0x8000 0x8000 0x8000)) (i32.const 16))))

  (func (export "widen16") (param $src i32) (param $dst i32) (param $n i32) (param $brain i32)
    (local $vend i32) (local $end i32) (local $h v128) (local $lo v128) (local $hi v128) (local $c i32)
    (local $em v128) (local $shifted v128)
    (local.set $vend (i32.add (local.get $src) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 1))))
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 1))))
    (block $done
      (loop $vectors
        (br_if $done (i32.ge_u (local.get $src) (local.get $vend)))
        (local.set $h (v128.load (local.get $src)))
        (local.set $lo (i32x4.extend_low_i16x8_u (local.get $h)))
        (local.set $hi (i32x4.extend_high_i16x8_u (local.get $h)))
        (if (local.get $brain)
          (then
            (local.set $lo (i32x4.shl (local.get $lo) (i32.const 16)))
            (local.set $hi (i32x4.shl (local.get $hi) (i32.const 16))))
          (else
            ;; $half written out twice: V8 does not inline the call, which cost as much as the rest
            (local.set $em (v128.and (local.get $lo) (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff)))
            (local.set $shifted (i32x4.shl (local.get $em) (i32.const 13)))
            (local.set $lo (v128.or
              (v128.bitselect
                (v128.or (local.get $shifted) (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000))
                (f32x4.mul (local.get $shifted) (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))
                (i32x4.ge_u (local.get $em) (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00)))
              (i32x4.shl (v128.and (local.get $lo) (v128.const i32x4 0x8000 0x8000 0x8000 0x8000)) (i32.const 16))))
            (local.set $em (v128.and (local.get $hi) (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff)))
            (local.set $shifted (i32x4.shl (local.get $em) (i32.const 13)))
            (local.set $hi (v128.or
              (v128.bitselect
                (v128.or (local.get $shifted) (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000))
                (f32x4.mul (local.get $shifted) (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))
                (i32x4.ge_u (local.get $em) (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00)))
              (i32x4.shl (v128.and (local.get $hi) (v128.const i32x4 0x8000 0x8000 0x8000 0x8000)) (i32.const 16))))))
        (v128.store (local.get $dst) (local.get $lo))
        (v128.store offset=16 (local.get $dst) (local.get $hi))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (br $vectors)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $c (i32.load16_u (local.get $src)))
        (local.set $lo (i32x4.splat (local.get $c)))
        (i32.store (local.get $dst)
          (select (i32.shl (local.get $c) (i32.const 16))
                  (i32x4.extract_lane 0 (call $half (local.get $lo)))
                  (local.get $brain)))
        (local.set $src (i32.add (local.get $src) (i32.const 2)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (br $tail))))
)
