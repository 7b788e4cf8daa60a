package agreement

// Band names the strength of agreement a kappa shows, in the bands Landis and Koch proposed
// in 1977 (Biometrics 33:159-174) and that most reports still use: below 0 poor, up to 0.20
// slight, up to 0.40 fair, up to 0.60 moderate, up to 0.80 substantial, above almost perfect.
// The bands are a convention for reading a figure, not a test; nil (no kappa) has no band.
func Band(kappa *float64) string {
	if kappa == nil {
		return ""
	}
	switch k := *kappa; {
	case k < 0:
		return "poor"
	case k <= 0.20:
		return "slight"
	case k <= 0.40:
		return "fair"
	case k <= 0.60:
		return "moderate"
	case k <= 0.80:
		return "substantial"
	}
	return "almost perfect"
}
