# mlverse/torch vignettes/getting-started/autograd.Rmd (commit 285f91b0, "Autograd: automatic differentiation"); changed: torch_manual_seed(1) added, the chunks pasted one after another, nothing else
library(torch)
torch_manual_seed(1)
x <- torch_ones(2, 2, requires_grad = TRUE)
x
y <- x + 2
y
y$grad_fn
z <- y * y * 3
z
out <- z$mean()
out
a <- torch_randn(2, 2)
a <- (a * 3) / (a - 1)
a$requires_grad
a$requires_grad_(TRUE)
a$requires_grad
b <- (a * a)$sum()
b$grad_fn
out$backward()
x$grad
x <- torch_randn(3, requires_grad=TRUE)
y <- 100 * x
y
v <- torch_tensor(c(0.1, 1.0, 0.0001))
y$backward(v)

x$grad
x$requires_grad
(x ** 2)$requires_grad

with_no_grad({
  print((x ** 2)$requires_grad)
})
x$requires_grad
y <- x$detach()
y$requires_grad
x$eq(y)$all()
