module github.com/humanllm/humanllm/kernels/cpu/_asm

go 1.26.0
